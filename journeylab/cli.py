"""The ``journeylab`` command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import JourneylabError


def _validate(args) -> int:
    from .study import validate_study

    problems = validate_study(args.path)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for p in errors:
        print(f"error: {p}")
    for p in warnings:
        print(f"warning: {p}")
    if errors:
        print(f"\n{args.path}: {len(errors)} error(s), {len(warnings)} warning(s)")
        return 1
    print(f"{args.path}: valid ({len(warnings)} warning(s))")
    return 0


def _run(args) -> int:
    from .pipeline import run

    run(args.study, args.out, seed=args.seed)
    return 0


def _demo(args) -> int:
    from .pipeline import demo

    demo(args.out, seed=args.seed)
    return 0


def _lab(args) -> int:  # pragma: no cover - interactive
    import subprocess

    from .pipeline import NOTEBOOK_DIR

    return subprocess.call([sys.executable, "-m", "jupyterlab", f"--notebook-dir={NOTEBOOK_DIR}"] + args.extra)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="journeylab", description="Evidence-backed customer journey maps.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a study folder and list every problem with its place")
    p.add_argument("path", type=Path)
    p.set_defaults(func=_validate)

    p = sub.add_parser("run", help="execute every notebook on a study and write the results")
    p.add_argument("study", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--seed", type=int, default=2026)
    p.set_defaults(func=_run)

    p = sub.add_parser("demo", help="`run` on the bundled sample study")
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--seed", type=int, default=2026)
    p.set_defaults(func=_demo)

    p = sub.add_parser("lab", help="open JupyterLab on the notebooks")
    p.add_argument("extra", nargs=argparse.REMAINDER)
    p.set_defaults(func=_lab)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except JourneylabError as exc:
        print(f"journeylab {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
