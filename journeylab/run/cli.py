"""The ``journeylab`` command."""
from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
from pathlib import Path

from ..errors import JourneylabError
from ..interop.project import import_project
from ..study.load import load_study, validate_study
from .pipeline import NOTEBOOK_DIR, NotebookFailed, demo, run
from .sections import plan


def _validate(args) -> int:
    problems = validate_study(args.path)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    infos = [p for p in problems if p.severity not in ("error", "warning")]
    for p in errors:
        print(f"error: {p}")
    for p in warnings:
        print(f"warning: {p}")
    for p in infos:
        print(f"info: {p}")
    if errors:
        print(f"\n{args.path}: {len(errors)} error(s), {len(warnings)} warning(s)")
        return 1
    print(f"{args.path}: valid ({len(warnings)} warning(s))")
    print()
    print(sections_table(args.path))
    return 0


def _import(args) -> int:

    report = import_project(args.source, out_dir=args.out, transcripts=args.transcripts, coder=args.coder,
                            interviewer_labels=args.interviewer_labels, overwrite=args.overwrite)
    print(report)
    return 0

def sections_table(path) -> str:
    """What each notebook will do with the study at ``path``: every section that needs an optional
    part, whether it runs, and what it would need (``journeylab validate``)."""
    table = plan(load_study(path))
    width = max(map(len, table["notebook"]))
    lines = ["What the notebooks will do with this study (sections that need an optional part):",
             f"  {'notebook':<{width}}  runs   skipped: what the section would need"]
    for notebook, rows in table.groupby("notebook", sort=False):
        skipped = rows[~rows["runs"]]
        first = f"  {notebook:<{width}}  {rows['runs'].sum()}/{len(rows):<3}"
        if not len(skipped):
            lines.append(first.rstrip())
        for k, r in enumerate(skipped.itertuples()):
            lines.append((first if k == 0 else " " * len(first)) + f"  {r.section} ({r.title}): {r.reason}")
    skipped = table[~table["runs"]]
    if len(skipped):
        missing = sorted(set("; ".join(skipped["reason"]).split("; ")))
        lines.append(f"warning: {len(skipped)} notebook sections skipped; this study lacks (all optional, "
                     "see docs/study-format.md):")
        lines += [f"  - {m}" for m in missing]
    else:
        lines.append("Every notebook section runs on this study.")
    return "\n".join(lines)


def _parameters(pairs) -> dict:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise JourneylabError(f"--param {pair!r}: expected NAME=VALUE, e.g. --param engine=nltk")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name] = value  # a bare word is a string
    return out


def _run(args) -> int:
    run(args.study, args.out, seed=args.seed, notebooks=args.notebooks, parameters=_parameters(args.param),
        timeout=args.timeout, quiet=args.quiet, jobs=args.jobs)
    return 0


def _demo(args) -> int:
    demo(args.out, seed=args.seed, notebooks=args.notebooks, parameters=_parameters(args.param),
         timeout=args.timeout, quiet=args.quiet, jobs=args.jobs)
    return 0


def lab_command(extra=()) -> list[str]:
    """The command ``journeylab lab`` runs: JupyterLab on ``notebooks/`` with this Python's kernel.

    The server runs on this interpreter, and Jupyter starts the ``python3`` kernel with the
    server's own interpreter, so the notebooks see this environment's journeylab.
    """
    if not NOTEBOOK_DIR.is_dir():
        raise JourneylabError(f"no notebooks folder at {NOTEBOOK_DIR}: `journeylab lab` opens the notebooks of a "
                              "clone of the repository (`make lab` there)")
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={NOTEBOOK_DIR}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # containers and CI machines run as root; Jupyter refuses root without it
    return cmd + list(extra)


def _lab(args) -> int:  # pragma: no cover - interactive

    cmd = lab_command(args.extra)
    print(f"journeylab lab: JupyterLab on {NOTEBOOK_DIR}, kernel {sys.executable}", flush=True)
    if os.name == "posix":
        os.execv(cmd[0], cmd)  # JupyterLab takes over: Ctrl-C reaches it and it stops its kernels
    return subprocess.call(cmd)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="journeylab", description="Evidence-backed customer journey maps.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a study folder and list every problem with its place")
    p.add_argument("path", type=Path)
    p.set_defaults(func=_validate)

    p = sub.add_parser("import", help="turn a Taguette or REFI-QDA (.qdpx) project into a study folder",
                       description="Write a study folder (study.yml, participants.csv, transcripts/, codebook.yml, "
                                   "codings/) from SOURCE: a Taguette project (project.sqlite3), a Taguette "
                                   "highlights export (CSV, with --transcripts) or a REFI-QDA project (.qdpx). Every "
                                   "coding keeps its exact span; what could not be carried over is listed "
                                   "(docs/interop.md).")
    p.add_argument("source", type=Path)
    p.add_argument("--out", type=Path, required=True, help="the study folder to write (new or empty)")
    p.add_argument("--transcripts", type=Path, default=None, metavar="DIR",
                   help="for a highlights CSV: the folder of the documents that were coded")
    p.add_argument("--coder", default=None, help="coder name for every coding (default: the project's users)")
    p.add_argument("--interviewer-label", dest="interviewer_labels", action="append", metavar="LABEL",
                   help="a speaker label of the research team (repeatable; default Interviewer, Moderator, ...)")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    p.set_defaults(func=_import)

    def run_options(p):
        p.add_argument("--seed", type=int, default=2026, help="passed to every notebook (default 2026)")
        p.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="another value for the notebooks' parameters cells, e.g. --param engine=nltk "
                            "(repeatable)")
        p.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                       help="run the numbered notebooks of DIR instead of journeylab's")
        p.add_argument("--timeout", type=int, default=900, help="seconds a single cell may run (default 900)")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
        p.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="notebooks run at once, each in its own kernel (default 2 on two or more cores; "
                            "1: one after the other)")

    p = sub.add_parser("run", help="execute every notebook on a study and write the results",
                       description="Execute every notebook on STUDY, in order; write the executed notebooks, "
                                   "the map, report, tables and manifest.json to OUT (docs/pipeline.md).")
    p.add_argument("study", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    run_options(p)
    p.set_defaults(func=_run)

    p = sub.add_parser("demo", help="`run` on the bundled sample study")
    p.add_argument("--out", type=Path, default=Path("reports"))
    run_options(p)
    p.set_defaults(func=_demo)

    p = sub.add_parser("lab", help="open JupyterLab on the notebooks with this environment's kernel",
                       description="Open JupyterLab on the notebooks with this environment's kernel. Other "
                                   "options go to JupyterLab, e.g. `journeylab lab --port=8899 --no-browser`.")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="options for JupyterLab")
    p.set_defaults(func=_lab)

    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "lab":  # JupyterLab's own options (--port=8899, --no-browser, ...) go through
        args.extra = unknown + args.extra
    try:
        return args.func(args)
    except JourneylabError as exc:
        print(f"\njourneylab {args.command}: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, NotebookFailed) else 2
    except KeyboardInterrupt:
        print(f"\njourneylab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
