"""Make the Taguette fixtures by driving a real Taguette server through its HTTP API.

Run with the Python of a throwaway venv that has Taguette installed::

    python3 -m venv /tmp/taguette-venv && /tmp/taguette-venv/bin/pip install taguette
    /tmp/taguette-venv/bin/python tests/data/taguette/make_fixtures.py

It starts ``taguette --no-browser`` in single-user mode on a loopback port with a fresh
database, logs in with the single-user token Taguette prints, creates a project, uploads the
documents below, creates tags, adds highlights the way Taguette's web page does (UTF-8 byte
offsets into the concatenated text nodes of the document HTML), checks that the snippet Taguette
stored for each highlight is the phrase intended, and downloads the exports next to this file.
It then imports journeylab's codebook CSV (``Codebook.to_csv``) into a second project and
exports that project's codebook, to check Taguette reads the CSV journeylab writes.

The only thing patched in Taguette is its start-up call to https://msg.taguette.org (news
messages), which this machine must not make; nothing else is changed. See NOTES.md.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString  # installed with Taguette

HERE = Path(__file__).resolve().parent
LAUNCHER = r"""
import sys
import taguette.web.base as base
def _no_messages(self):  # skip the news fetch from msg.taguette.org (no network here)
    self.messages_event.set()
base.Application.check_messages = _no_messages
from taguette.main import main
sys.argv = ["taguette"] + sys.argv[1:]
main()
"""

DOCUMENTS = [
    ("P21 — entretien", "p21.html", "Interview with P21 (French/Spanish words, emoji)", (
        "<p>Interviewer: Bonjour! Ça va? Tell me about the order.</p>\n"
        "<p>P21: The café table arrived late — two weeks 😡. The señora at support was kind, though.</p>\n"
        "<p>Interviewer: And the refund?</p>\n"
        "<p>P21: Refund took <strong>ten days</strong> &amp; three emails. 🙄 Next time I'll pay with PayPal.</p>\n"
    )),
    ("P22", "p22.html", "Interview with P22 (Chinese, emoji)", (
        "<p>Interviewer: How did you find us?</p>\n"
        "<p>P22: 我在小红书上看到的 — a friend posted the lamp. I love the 北欧 style 👍 and the lamp was cheap.</p>\n"
        "<p>Interviewer: Anything that annoyed you?</p>\n"
        "<p>P22: The checkout asked for my address <em>twice</em>.<br>Niño-proof packaging though, 10/10 ✨.</p>\n"
    )),
    ("P23 call notes", "p23.html", "Notes without speaker labels", (
        "<h2>Call notes – P23</h2>\n"
        "<ul><li>Wanted next-day delivery; paid £4.99 extra.</li>\n"
        "<li>Parcel left at the neighbour’s — “no problem”.</li></ul>\n"
    )),
]

TAGS = [
    ("delivery.late", "Delivery arrived after the promised date."),
    ("delivery.packaging", "Comments on packaging, good or bad."),
    ("refund.late", "Refund slower than expected."),
    ("support.friendly", "Support staff were kind or helpful.\n\nInclude: named agents, tone."),
    ("checkout.address_form", "Address asked for twice or form lost input."),
    ("discovery.social", "Found the shop through social media (小红书, Instagram...)."),
    ("émotion.colère", "Anger or annoyance 😡."),
]

# (document index, phrase, occurrence of the phrase in the text nodes (0 = first), tags)
HIGHLIGHTS = [
    (0, "The café table arrived late — two weeks 😡.", 0, ["delivery.late", "émotion.colère"]),
    (0, "The señora at support was kind", 0, ["support.friendly"]),
    (0, "Refund took ten days & three emails. 🙄", 0, ["refund.late", "émotion.colère"]),
    (0, "Ça va?", 0, ["interesting"]),
    (0, "two weeks 😡. The señora at support was kind, though.\nInterviewer: And the refund?", 0, ["interesting"]),
    (1, "我在小红书上看到的 — a friend posted the lamp.", 0, ["discovery.social"]),
    (1, "the lamp", 1, ["interesting"]),
    (1, "The checkout asked for my address twice.", 0, ["checkout.address_form", "émotion.colère"]),
    (1, "Niño-proof packaging though, 10/10 ✨", 0, ["delivery.packaging"]),
    (2, "Wanted next-day delivery; paid £4.99 extra.", 0, ["delivery.late"]),
    (2, "Parcel left at the neighbour’s — “no problem”.", 0, ["delivery.packaging"]),
]


def _brief(body: bytes) -> str:
    """The error message of a Taguette page (its alert box), else the start of the body."""
    text = body.decode("utf-8", "replace")
    m = re.search(r'class="alert[^"]*"[^>]*>(.*?)</div>', text, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))).strip() if m else text[:500]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def xsrf(self) -> str:
        for c in self.jar:
            if c.name == "_xsrf":
                return c.value
        raise RuntimeError("no _xsrf cookie yet")

    def request(self, method, path, *, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.geturl(), resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: HTTP {exc.code}: {_brief(exc.read())}") from None

    def get(self, path):
        return self.request("GET", path)

    def form(self, path, fields):
        body = urllib.parse.urlencode({**fields, "_xsrf": self.xsrf()}).encode()
        return self.request("POST", path, data=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def multipart(self, path, fields, files, *, api=True):
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        for k, (fname, ctype, content) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                         f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf()}
        return self.request("POST", path, data=b"".join(parts), headers=headers)

    def api(self, path, obj):
        url, body = self.request("POST", path, data=json.dumps(obj).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "X-Xsrftoken": self.xsrf()})
        return json.loads(body)


def text_nodes(html: str) -> str:
    """The concatenated text nodes of the HTML, parsed as Taguette does (BeautifulSoup + html5lib)."""
    soup = BeautifulSoup(html, "html5lib")
    return "".join(str(s) for s in soup.body.descendants if isinstance(s, NavigableString))


def byte_offsets(html: str, phrase: str, occurrence: int) -> tuple[int, int]:
    text = text_nodes(html)
    pos = -1
    for _ in range(occurrence + 1):
        pos = text.find(phrase, pos + 1)
        if pos < 0:
            raise ValueError(f"{phrase!r} (occurrence {occurrence}) not in {text!r}")
    start = len(text[:pos].encode("utf-8"))
    return start, start + len(phrase.encode("utf-8"))


def start_server(tmp: Path):
    """Start Taguette in single-user mode on a free loopback port; return (process, logged-in client)."""
    port = free_port()
    log = open(tmp / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "--no-browser", "-p", str(port), "-b", "127.0.0.1",
                             "--database", str(tmp / "taguette.sqlite3")], stdout=log, stderr=subprocess.STDOUT)
    token = None
    for _ in range(120):
        time.sleep(0.5)
        log.seek(0)
        m = re.search(r"\?token=([0-9a-f]+)", log.read())
        if m:
            token = m.group(1)
            break
        if proc.poll() is not None:
            raise RuntimeError("taguette exited; see " + str(tmp / "server.log"))
    if token is None:
        proc.terminate()
        raise RuntimeError("taguette did not print its login link")
    c = Client(f"http://127.0.0.1:{port}")
    c.get(f"/?token={token}")  # single-user login: sets the user cookie
    c.get("/project/new")  # renders a form: sets the _xsrf cookie
    return proc, c


def new_project(c: Client, name: str, description: str = "") -> int:
    url, _ = c.form("/project/new", {"name": name, "description": description})
    return int(re.search(r"/project/(\d+)", url).group(1))


def project_tags(c: Client, project: int) -> dict:
    """Tag path -> id, read from the project page (``var tags = {...};``)."""
    _, page = c.get(f"/project/{project}")
    m = re.search(r"var tags = (\{.*?\});\n", page.decode("utf-8"))
    tags = json.loads(m.group(1).replace("\\x3C", "<"))
    return {t["path"]: t["id"] for t in tags.values()}


def upload_documents(c: Client, project: int, documents) -> tuple[list, list]:
    """Upload (name, filename, description, body HTML) documents; return Taguette ids and stored HTML."""
    doc_ids, htmls = [], []
    for name, fname, descr, html in documents:
        # Without a charset declaration Taguette (BeautifulSoup) guesses windows-1252 and garbles
        # every non-ASCII character (seen on the first run), so the file declares UTF-8 as saved
        # HTML files do.
        data = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>' + fname + "</title></head>"
                "<body>\n" + html + "</body></html>\n").encode("utf-8")
        _, body = c.multipart(f"/api/project/{project}/document/new", {"name": name, "description": descr},
                              {"file": (fname, "text/html", data)})
        doc_id = json.loads(body)["created"]
        _, body = c.get(f"/api/project/{project}/document/{doc_id}/contents")
        doc_ids.append(doc_id)
        htmls.append("".join(chunk["contents"] for chunk in json.loads(body)["contents"]))
    return doc_ids, htmls


def add_highlights(c: Client, project: int, doc_ids, htmls, highlights, tag_ids) -> list:
    """Add (document index, phrase, occurrence, tags) highlights as Taguette's page does."""
    expected = []
    for d, phrase, occ, tags in highlights:
        start, end = byte_offsets(htmls[d], phrase, occ)
        res = c.api(f"/api/project/{project}/document/{doc_ids[d]}/highlight/new",
                    {"start_offset": start, "end_offset": end, "tags": [tag_ids[t] for t in tags]})
        expected.append({"highlight_id": res["id"], "document": d, "start_offset": start, "end_offset": end,
                         "text": phrase, "tags": tags})
    return expected


def check_snippets(sqlite_path: Path, expected: list) -> None:
    """Every snippet Taguette stored (its own extract() of the offsets) is the intended phrase."""
    import sqlite3

    con = sqlite3.connect(sqlite_path)
    stored = dict(con.execute("SELECT id, snippet FROM highlights").fetchall())
    con.close()
    by_text = sorted(text_nodes(s) for s in stored.values())
    if by_text != sorted(e["text"] for e in expected):
        raise RuntimeError(f"Taguette's snippets differ from the intended phrases: {by_text}")


def import_codebook(c: Client, project: int, fname: str, data: bytes) -> None:
    """Upload a codebook CSV through *Import codebook* and confirm the form Taguette shows."""
    _, page = c.multipart(f"/project/{project}/import_codebook", {"_xsrf": c.xsrf()},
                          {"file": (fname, "text/csv", data)})
    soup = BeautifulSoup(page.decode("utf-8"), "html5lib")
    fields = {}
    for inp in soup.find_all(["input", "textarea"]):
        name = inp.get("name")
        if not name or name == "_xsrf":
            continue
        if inp.get("type") == "checkbox":
            if inp.has_attr("checked"):
                fields[name] = inp.get("value") or "on"
        else:
            fields[name] = inp.text if inp.name == "textarea" else inp.get("value", "")
    c.form(f"/project/{project}/import_codebook", fields)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="taguette-fixtures-"))
    proc, c = start_server(tmp)
    try:
        project = new_project(c, "journeylab fixture", "Made by make_fixtures.py")
        doc_ids, htmls = upload_documents(c, project, DOCUMENTS)
        for path, descr in TAGS:
            c.api(f"/api/project/{project}/tag/new", {"path": path, "description": descr})
        tag_ids = project_tags(c, project)  # includes the default tag "interesting"
        expected = add_highlights(c, project, doc_ids, htmls, HIGHLIGHTS, tag_ids)
        for e in expected:
            e["document"] = DOCUMENTS[e["document"]][0]

        out = {
            "project.sqlite3": f"/project/{project}/export/project.sqlite3",
            "highlights.csv": f"/project/{project}/export/highlights/.csv",
            "codebook.csv": f"/project/{project}/export/codebook.csv",
            "codebook.qdc": f"/project/{project}/export/codebook.qdc",
        }
        for fname, route in out.items():
            _, body = c.get(route)
            (HERE / fname).write_bytes(body)
        check_snippets(HERE / "project.sqlite3", expected)

        # Does Taguette read the codebook CSV journeylab writes? Codebook.to_csv writes plain UTF-8
        # (journeylab_codebook_plain.csv); journeylab.interop.taguette.write_codebook adds a byte-order mark
        # (journeylab_codebook.csv). Taguette guesses the encoding with chardet.
        codebook_checks = {}
        for fname in ("journeylab_codebook_plain.csv", "journeylab_codebook.csv"):
            project2 = new_project(c, f"codebook import {fname[:20]}")
            try:
                import_codebook(c, project2, fname, (HERE / fname).read_bytes())
            except RuntimeError as exc:
                codebook_checks[fname] = f"rejected: {exc}"
                continue
            _, body = c.get(f"/project/{project2}/export/codebook.csv")
            (HERE / "journeylab_codebook_via_taguette.csv").write_bytes(body)
            codebook_checks[fname] = "imported; Taguette's export of it: journeylab_codebook_via_taguette.csv"

        (HERE / "expected_highlights.json").write_text(
            json.dumps({"taguette_version": taguette_version(), "highlights": expected,
                        "codebook_import": codebook_checks}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote fixtures to {HERE} (server log: {tmp / 'server.log'})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def taguette_version() -> str:
    import taguette

    return taguette.__version__


def from_plan(plan_path: Path, out_path: Path) -> None:
    """Build a project from a plan written by make_sample_project.py and export it to ``out_path``.

    The plan holds the project name, the codebook CSV to import (as journeylab writes it), the
    documents (name, file name, description, body HTML) and the highlights (document index,
    phrase, occurrence, tag paths).
    """
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="taguette-plan-"))
    proc, c = start_server(tmp)
    try:
        project = new_project(c, plan["project"], plan.get("description", ""))
        import_codebook(c, project, "codebook.csv", plan["codebook_csv"].encode("utf-8-sig"))
        tag_ids = project_tags(c, project)
        doc_ids, htmls = upload_documents(c, project, plan["documents"])
        expected = add_highlights(c, project, doc_ids, htmls, plan["highlights"], tag_ids)
        _, body = c.get(f"/project/{project}/export/project.sqlite3")
        out_path.write_bytes(body)
        check_snippets(out_path, expected)
        print(f"wrote {out_path}: {len(doc_ids)} documents, {len(expected)} highlights, {len(tag_ids)} tags "
              f"(Taguette {taguette_version()}; server log {tmp / 'server.log'})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--plan":
        from_plan(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
