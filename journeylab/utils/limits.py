"""Limits on what a file may make journeylab do, and the readers that keep to them (private).

A study folder or a project file can come from anyone, so a file is never allowed to take
unbounded memory, time or recursion depth:

- **Decompression** (``.qdpx`` zips, ``events.csv.gz``): at most :data:`MAX_UNCOMPRESSED_BYTES`
  bytes in all, and at most :data:`MAX_COMPRESSION_RATIO` times the compressed size once more
  than :data:`RATIO_FREE_BYTES` have come out (ordinary text and CSV compress 3 to 20 times; the
  zip and gzip "bombs" that expand a megabyte into gigabytes, 1000 times or more).
- **Nesting**: YAML and XML documents at most :data:`MAX_NESTING_DEPTH` levels deep.
- **YAML aliases**: a ``*alias`` repeats an ``&anchor``ed value, so nine nested lists of nine
  aliases stand for 9**9 values (the "billion laughs"). A document may stand for at most
  :data:`MAX_YAML_NODES` values once its aliases are expanded.
- **XML**: no ``<!DOCTYPE>`` (and so no entity declarations: nothing to expand, nothing external
  to resolve); REFI-QDA files never need one.

Each limit is a module-level number read when a file is read, so it can be changed for a session
(``journeylab.utils.limits.MAX_UNCOMPRESSED_BYTES = 8 * 2**30``) or through an environment
variable of the same name with a ``JOURNEYLAB_`` prefix (``JOURNEYLAB_MAX_UNCOMPRESSED_BYTES``),
read when journeylab is imported. A file over a limit raises a :class:`LimitError` (a
:class:`~journeylab.errors.JourneylabError`) naming the file, the place, the limit and how to
raise it. The limits are documented in ``docs/study-format.md`` and ``docs/interop.md``.
"""
from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
import zlib
from xml.parsers import expat

import yaml

from ..errors import JourneylabError


def _env(name: str, default: int) -> int:
    raw = os.environ.get(f"JOURNEYLAB_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise JourneylabError(f"environment variable JOURNEYLAB_{name}: expected a whole number, "
                              f"found {raw!r}") from None
    if value <= 0:
        raise JourneylabError(f"environment variable JOURNEYLAB_{name}: expected a positive number, found {raw!r}")
    return value


#: Most bytes one compressed file (all entries of a .qdpx, or an events.csv.gz) may expand to.
MAX_UNCOMPRESSED_BYTES = _env("MAX_UNCOMPRESSED_BYTES", 2 * 2**30)
#: Most a compressed file may expand relative to its compressed size (checked past RATIO_FREE_BYTES).
MAX_COMPRESSION_RATIO = _env("MAX_COMPRESSION_RATIO", 100)
#: Output below which the ratio is not checked (a small file of blanks compresses very well).
RATIO_FREE_BYTES = _env("RATIO_FREE_BYTES", 16 * 2**20)
#: Deepest nesting of a YAML or XML document.
MAX_NESTING_DEPTH = _env("MAX_NESTING_DEPTH", 100)
#: Most values a YAML document may stand for once its aliases are expanded.
MAX_YAML_NODES = _env("MAX_YAML_NODES", 1_000_000)


class LimitError(JourneylabError):
    """A file goes over one of journeylab's limits (size, compression ratio, nesting, aliases)."""


def _how_to_raise(name: str) -> str:
    return (f"if the file is genuine, raise journeylab.utils.limits.{name} (or the environment variable "
            f"JOURNEYLAB_{name})")


def check_expansion(total: int, compressed: int, *, where: str) -> None:
    """Raise :class:`LimitError` when ``total`` decompressed bytes from ``compressed`` go over a limit."""
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LimitError(f"{where}: decompresses to more than {MAX_UNCOMPRESSED_BYTES:,} bytes "
                         f"(MAX_UNCOMPRESSED_BYTES); refused as a possible decompression bomb; "
                         + _how_to_raise("MAX_UNCOMPRESSED_BYTES"))
    if total > RATIO_FREE_BYTES and total > MAX_COMPRESSION_RATIO * max(compressed, 1):
        raise LimitError(f"{where}: expands more than {MAX_COMPRESSION_RATIO} times ({compressed:,} compressed "
                         f"bytes give more than {total:,}); refused as a possible decompression bomb; "
                         + _how_to_raise("MAX_COMPRESSION_RATIO"))


class BoundedReader(io.RawIOBase):
    """A binary file object over a decompressing stream that stops at the limits.

    ``stream`` is the decompressing reader (``gzip.GzipFile``), ``compressed`` the size of the
    compressed file, or a callable giving how many compressed bytes have been consumed so far
    (the ratio is then checked against those, so a bomb at the end of a large file is caught as
    early as one at the start); reading past :data:`MAX_UNCOMPRESSED_BYTES` or the ratio raises
    :class:`LimitError` naming ``where``. ``zlib.error``, ``EOFError`` and ``OSError`` of a
    damaged stream become a :class:`~journeylab.errors.JourneylabError` too.
    """

    def __init__(self, stream, *, compressed, where: str):
        self._stream = stream
        self._compressed = compressed
        self._where = where
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._stream.read(len(buffer))
        except (zlib.error, EOFError, OSError) as exc:
            raise JourneylabError(f"{self._where}: the compressed file is damaged or truncated "
                                  f"({type(exc).__name__}: {exc}) after {self.total:,} bytes; "
                                  "re-export or re-compress it") from None
        n = len(data)
        buffer[:n] = data
        self.total += n
        compressed = self._compressed() if callable(self._compressed) else self._compressed
        check_expansion(self.total, compressed, where=self._where)
        return n

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


def check_zip_entries(zf, *, where: str) -> None:
    """Refuse a zip archive whose declared sizes go over the limits (before anything is read).

    :mod:`zipfile` never returns more than an entry's declared size, so checking the declared
    sizes bounds what reading the entries can produce.
    """
    total = 0
    compressed = 0
    for info in zf.infolist():
        total += info.file_size
        compressed += info.compress_size
        check_expansion(info.file_size, info.compress_size, where=f"{where}, entry {info.filename!r}")
    check_expansion(total, compressed, where=where)


# ----------------------------------------------------------------------------- YAML


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that bounds nesting depth while composing (before any recursion error)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_NESTING_DEPTH} levels deep "
                                                   f"(MAX_NESTING_DEPTH); {_how_to_raise('MAX_NESTING_DEPTH')}",
                                           problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes ``root`` stands for with every alias expanded (iterative, memoised per node)."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else node.value
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        sizes[key] = total
        if total > MAX_YAML_NODES:
            raise yaml.MarkedYAMLError(problem=f"its aliases (*name) expand to more than {MAX_YAML_NODES:,} values "
                                               f"(MAX_YAML_NODES), a possible 'billion laughs' attack; "
                                               + _how_to_raise("MAX_YAML_NODES"), problem_mark=node.start_mark)
    return sizes[id(root)]


def load_yaml(text: str) -> tuple[yaml.Node | None, object]:
    """Compose and construct one YAML document safely: ``(root node, data)``.

    ``yaml.safe_load`` with the nesting depth and the alias expansion bounded. A document over a
    limit raises a :class:`yaml.MarkedYAMLError` (its ``problem`` says which limit, its
    ``problem_mark`` where), which callers already report as invalid YAML with its line.
    """
    loader = _BoundedLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:  # very deep flow collections can still exhaust the parser
            raise yaml.MarkedYAMLError(problem=f"nested too deeply (MAX_NESTING_DEPTH is {MAX_NESTING_DEPTH})") \
                from None
        if root is None:
            return None, None
        _expanded_size(root)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


# ----------------------------------------------------------------------------- XML


def parse_xml(data: bytes, *, where: str) -> ET.Element:
    """Parse an XML document with no DTD (so no entities) and at most :data:`MAX_NESTING_DEPTH` levels.

    Raises
    ------
    LimitError
        A ``<!DOCTYPE>`` or a nesting deeper than the limit (naming ``where`` and the line).
    xml.etree.ElementTree.ParseError
        The document is not well-formed (callers report it with their own wording).
    """
    checker = expat.ParserCreate()
    depth = 0

    def refuse(what: str):
        raise LimitError(f"{where}, line {checker.CurrentLineNumber}: {what}")

    def start(name, attrs):
        nonlocal depth
        depth += 1
        if depth > MAX_NESTING_DEPTH:
            refuse(f"elements nested more than {MAX_NESTING_DEPTH} levels deep (MAX_NESTING_DEPTH); "
                   + _how_to_raise("MAX_NESTING_DEPTH"))

    def end(name):
        nonlocal depth
        depth -= 1

    def doctype(*_args):
        refuse("the document declares a <!DOCTYPE> (and could declare entities); journeylab reads XML "
               "without DTDs, which REFI-QDA files never need: remove the declaration")

    checker.StartElementHandler = start
    checker.EndElementHandler = end
    checker.StartDoctypeDeclHandler = doctype
    checker.EntityDeclHandler = doctype
    try:
        checker.Parse(data, True)
    except expat.ExpatError as exc:
        raise ET.ParseError(str(exc)) from None
    return ET.fromstring(data)
