"""The codebook: codes, their hierarchy, definitions and matching rules.

A :class:`Codebook` holds :class:`Code` objects in a hierarchy of any depth. It is read from and
written to ``codebook.yml`` (human-editable; the format is in ``docs/coding.md``), the REFI-QDA
codebook exchange format (``.qdc``, read by NVivo, ATLAS.ti, MAXQDA and QualCoder) and the CSV
format Taguette imports (``path``, ``description``).
"""
from __future__ import annotations

__all__ = ["Code", "Rules", "Codebook", "CodebookError", "KNOWN_KINDS"]

import csv
import html
import io
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import JourneylabError
from ..utils.limits import load_yaml, parse_xml
from ..utils.tables import neutralise, read_rows

KNOWN_KINDS = ("pain_point", "delight", "need", "behaviour", "emotion", "other")
"""Kinds the map and the grading know; any other lower-case word is accepted too."""

QDC_NS = "urn:QDA-XML:codebook:1.0"
"""XML namespace of a REFI-QDA codebook (``.qdc``)."""

# GUIDs of codes without an imported guid: uuid5(GUID_NAMESPACE, "<codebook name>/<code name>").
GUID_NAMESPACE = uuid.UUID("6f1c4b1e-8d5a-5b47-9b0e-6a6f75726e65")
_GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SET_RE = re.compile(r"^(stage|touchpoint|kind): (.+)$")

_CODE_KEYS = ("name", "kind", "stage", "touchpoint", "parent", "definition", "include", "exclude",
              "examples", "colour", "codable", "guid", "rules")
_RULE_KEYS = ("keywords", "phrases", "regex", "exclude", "near", "negation", "speaker_roles")
_ROLES = ("participant", "interviewer")


# ----------------------------------------------------------------------------- codes


@dataclass
class Rules:
    """Matching rules of one code (used by :func:`journeylab.autocode`).

    Attributes
    ----------
    keywords : list of str
        Words matched on stemmed tokens ("refund" matches "refunds", "refunded"). A keyword of
        several words is treated as a phrase.
    phrases : list of str
        Word sequences matched on consecutive stemmed tokens ("saw an ad").
    regex : list of str
        Python regular expressions searched in the raw text (case-insensitive).
    exclude : list of str
        Words or phrases (stemmed, like phrases) whose presence anywhere in the segment
        suppresses the code.
    near : list of (str, str, int)
        ``[a, b, window]``: ``a`` and ``b`` (stemmed) at most ``window`` tokens apart, either order.
    negation : bool
        When true, a keyword/phrase/near match preceded by a negator within 3 tokens, in the
        same clause, does not count (see ``docs/coding.md``).
    speaker_roles : list of str or None
        Roles whose segments may be coded; None means the default, participants only.
    """

    keywords: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    regex: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    near: list = field(default_factory=list)
    negation: bool = False
    speaker_roles: list | None = None

    @property
    def roles(self) -> tuple:
        """Speaker roles this code applies to (the default is participants only)."""
        return tuple(self.speaker_roles) if self.speaker_roles is not None else ("participant",)

    def __bool__(self) -> bool:
        return bool(self.keywords or self.phrases or self.regex or self.near)

    def n_rules(self) -> int:
        """Number of positive rules (keywords, phrases, regexes and near-pairs)."""
        return len(self.keywords) + len(self.phrases) + len(self.regex) + len(self.near)

    def to_dict(self) -> dict:
        """The ``rules:`` mapping as written to codebook.yml (defaults left out)."""
        out: dict[str, Any] = {}
        for key in ("keywords", "phrases", "regex", "exclude"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.near:
            out["near"] = [[a, b, int(w)] for a, b, w in self.near]
        if self.negation:
            out["negation"] = True
        if self.speaker_roles is not None:
            out["speaker_roles"] = list(self.speaker_roles)
        return out


@dataclass
class Code:
    """One code of a codebook.

    Attributes
    ----------
    name : str
        Unique name (the value of the ``code`` column of a codings frame).
    kind : str or None
        ``pain_point``, ``delight``, ``need``, ``behaviour``, ``emotion``, ... (free word).
    stage, touchpoint : str or None
        The journey stage and touchpoint the code belongs to (names from study.yml).
    parent : str or None
        Name of the parent code (hierarchy of any depth).
    definition, include, exclude : str
        What the code means, when to apply it and when not to.
    examples : list of str
        Example quotes.
    colour : str or None
        ``#rrggbb`` (or ``#rgb``, or a matplotlib colour name).
    codable : bool
        False for a grouping code that is not applied to text itself (REFI-QDA ``isCodable``).
    guid : str or None
        GUID kept from an imported REFI-QDA codebook; None lets the codebook derive a stable one.
    rules : Rules
        Matching rules for :func:`journeylab.autocode`.
    """

    name: str
    kind: str | None = None
    stage: str | None = None
    touchpoint: str | None = None
    parent: str | None = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: list = field(default_factory=list)
    colour: str | None = None
    codable: bool = True
    guid: str | None = None
    rules: Rules = field(default_factory=Rules)

    def to_dict(self) -> dict:
        """The code as a codebook.yml mapping (empty and default fields left out)."""
        out: dict[str, Any] = {"name": self.name}
        for key in ("kind", "stage", "touchpoint", "parent", "definition", "include", "exclude"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.examples:
            out["examples"] = list(self.examples)
        if self.colour:
            out["colour"] = self.colour
        if not self.codable:
            out["codable"] = False
        if self.guid:
            out["guid"] = self.guid
        rules = self.rules.to_dict()
        if rules:
            out["rules"] = rules
        return out


# ----------------------------------------------------------------------------- parsing helpers


class CodebookError(JourneylabError):
    """A problem in a codebook; ``file``, ``line`` (1-based or None), ``code`` (name or None) and
    ``problem`` (the message without the place) let a loader report it in its own format."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None, code: str | None = None,
                 problem: str = ""):
        super().__init__(message)
        self.file, self.line, self.code, self.problem = file, line, code, problem or message


class _Where:
    """Builds error messages naming the file, the code and the YAML line."""

    def __init__(self, source: str, root: yaml.Node | None = None):
        self.source, self.root = source, root

    def line(self, *keys) -> int | None:
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        node, line = v, v.start_mark.line + 1
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, message: str, *keys, code: str | None = None) -> CodebookError:
        where = self.source
        line = self.line(*keys) if keys else None
        if line is not None:
            where += f", line {line}"
        if code is not None:
            where += f", code {code!r}"
        problem = f"code {code!r}: {message}" if code is not None else message
        return CodebookError(f"{where}: {message}", file=self.source, line=line, code=code, problem=problem)


def _text(value, what: str, where: _Where, keys: tuple, code: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise where.error(f"`{what}` must be text; found {type(value).__name__} {value!r}", *keys, code=code)


def _optional(value, what, where, keys, code) -> str | None:
    text = _text(value, what, where, keys, code)
    return text or None


def _str_list(value, what, where, keys, code) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise where.error(f"`{what}` must be a list of text; found {type(value).__name__} {value!r}",
                          *keys, code=code)
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
            raise where.error(f"`{what}` item {i + 1} must be non-empty text; found {item!r}", *keys, i, code=code)
        out.append(str(item).strip())
    return out


def _parse_rules(raw, where: _Where, keys: tuple, code: str) -> Rules:
    if raw is None:
        return Rules()
    if not isinstance(raw, Mapping):
        raise where.error(f"`rules` must be a mapping of {', '.join(_RULE_KEYS)}; found {raw!r}", *keys, code=code)
    unknown = [k for k in raw if k not in _RULE_KEYS]
    if unknown:
        raise where.error(f"unknown rule key {unknown[0]!r}; expected one of {', '.join(_RULE_KEYS)}",
                          *keys, unknown[0], code=code)
    lists = {k: _str_list(raw.get(k), f"rules.{k}", where, keys + (k,), code)
             for k in ("keywords", "phrases", "regex", "exclude")}
    for i, pattern in enumerate(lists["regex"]):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise where.error(f"rules.regex item {i + 1} {pattern!r} is not a valid regular expression: {exc}",
                              *keys, "regex", i, code=code) from None
    near = []
    for i, item in enumerate(raw.get("near") or []):
        ok = (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) and x.strip() for x in item[:2])
              and isinstance(item[2], int) and not isinstance(item[2], bool) and item[2] >= 1)
        if not ok:
            raise where.error(f"rules.near item {i + 1} must be [word, word, window] with a window ≥ 1 "
                              f"(e.g. [shipping, cost, 5]); found {item!r}", *keys, "near", i, code=code)
        near.append((item[0].strip(), item[1].strip(), int(item[2])))
    if raw.get("near") is not None and not isinstance(raw.get("near"), list):
        raise where.error(f"rules.near must be a list of [word, word, window]; found {raw['near']!r}",
                          *keys, "near", code=code)
    negation = raw.get("negation", False)
    if not isinstance(negation, bool):
        raise where.error(f"rules.negation must be true or false; found {negation!r}", *keys, "negation", code=code)
    roles = raw.get("speaker_roles")
    if roles is not None:
        roles = _str_list(roles, "rules.speaker_roles", where, keys + ("speaker_roles",), code)
        bad = [r for r in roles if r not in _ROLES]
        if bad:
            raise where.error(f"rules.speaker_roles: unknown role {bad[0]!r}; expected {' or '.join(_ROLES)}",
                              *keys, "speaker_roles", code=code)
    return Rules(near=near, negation=negation, speaker_roles=roles, **lists)


def _check_colour(value: str | None, where: _Where, keys: tuple, code: str) -> None:
    if value is None or _HEX_RE.match(value):
        return
    # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
    from matplotlib.colors import is_color_like

    if not is_color_like(value):
        raise where.error(f"colour {value!r} is not a colour; expected '#rrggbb' (e.g. '#e69f00') or a colour name",
                          *keys, code=code)


def _hex(colour: str | None) -> str | None:
    if not colour:
        return None
    if _HEX_RE.match(colour):
        return colour
    # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
    from matplotlib.colors import to_hex

    return to_hex(colour)


def _parse_code(raw, i: int, where: _Where) -> Code:
    keys = ("codes", i)
    if not isinstance(raw, Mapping):
        raise where.error(f"code {i + 1} must be a mapping with at least `name`; found {raw!r}", *keys)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise where.error(f"code {i + 1} has no `name` (expected non-empty text); found {name!r}", *keys)
    name = name.strip()
    unknown = [k for k in raw if k not in _CODE_KEYS]
    if unknown:
        hint = " (did you mean `colour`?)" if unknown[0] == "color" else ""
        raise where.error(f"unknown key {unknown[0]!r}{hint}; expected one of {', '.join(_CODE_KEYS)}",
                          *keys, unknown[0], code=name)

    def t(key):
        return _optional(raw.get(key), key, where, keys + (key,), name)

    colour = t("colour")
    _check_colour(colour, where, keys + ("colour",), name)
    codable = raw.get("codable", True)
    if not isinstance(codable, bool):
        raise where.error(f"`codable` must be true or false; found {codable!r}", *keys, "codable", code=name)
    guid = t("guid")
    if guid is not None and not _GUID_RE.match(guid):
        raise where.error(f"`guid` {guid!r} is not a GUID (8-4-4-4-12 hex digits)", *keys, "guid", code=name)
    if guid is not None:
        guid = guid.strip("{}")
    return Code(
        name=name, kind=t("kind"), stage=t("stage"), touchpoint=t("touchpoint"), parent=t("parent"),
        definition=t("definition") or "", include=t("include") or "", exclude=t("exclude") or "",
        examples=_str_list(raw.get("examples"), "examples", where, keys + ("examples",), name),
        colour=colour, codable=codable, guid=guid,
        rules=_parse_rules(raw.get("rules"), where, keys + ("rules",), name),
    )


# ----------------------------------------------------------------------------- description text

_SECTIONS = (("include", "Include:"), ("exclude", "Exclude:"), ("examples", "Examples:"))


def _compose_description(code: Code) -> str:
    """Definition, include/exclude criteria and examples as one plain-text description."""
    parts = [code.definition] if code.definition else []
    if code.include:
        parts.append(f"Include: {code.include}")
    if code.exclude:
        parts.append(f"Exclude: {code.exclude}")
    if code.examples:
        parts.append("Examples:\n" + "\n".join(f"- {e}" for e in code.examples))
    return "\n\n".join(parts)


def parse_description(text: str | None) -> dict:
    """Inverse of :func:`_compose_description`; text without sections is all definition."""
    out = {"definition": "", "include": "", "exclude": "", "examples": []}
    if not text:
        return out
    text = text.replace("\r\n", "\n").strip()
    blocks = re.split(r"\n\s*\n(?=(?:Include|Exclude|Examples):)", text)
    definition = []
    for block in blocks:
        for key, label in _SECTIONS:
            if block.startswith(label):
                body = block[len(label):].strip()
                if key == "examples":
                    out[key] = [ln[2:].strip() if ln.startswith("- ") else ln.strip()
                                for ln in body.split("\n") if ln.strip()]
                else:
                    out[key] = body
                break
        else:
            definition.append(block)
    out["definition"] = "\n\n".join(definition).strip()
    return out


# ----------------------------------------------------------------------------- codebook


class Codebook:
    """An ordered set of codes with a hierarchy, definitions and matching rules.

    Parameters
    ----------
    codes : iterable of Code
        The codes, in display order.
    name : str, default "codebook"
        Name of the codebook (also the namespace of the derived REFI-QDA GUIDs).
    version : str or None
        Free version label.
    sets : list of dict, optional
        REFI-QDA code sets imported from another tool that journeylab does not interpret
        (``name``, ``guid``, ``description``, ``members``); kept so they survive a round trip.
    stages : mapping of str to list of str, optional
        Journey stages → touchpoints (from study.yml); when given, every code's stage and
        touchpoint must be among them.

    Raises
    ------
    JourneylabError
        On duplicate code names, an unknown parent, a cycle in the hierarchy, or an unknown
        stage or touchpoint.

    Examples
    --------
    >>> import journeylab as jl
    >>> cb = jl.Codebook([jl.Code("checkout_friction"), jl.Code("forced_account", parent="checkout_friction")])
    >>> cb.path("forced_account")
    'checkout_friction/forced_account'
    """

    def __init__(self, codes: Iterable[Code] = (), *, name: str = "codebook", version: str | None = None,
                 sets: list | None = None, stages: Mapping[str, Iterable[str]] | None = None,
                 _where: _Where | None = None):
        self.name = str(name)
        self.version = None if version is None else str(version)
        if isinstance(codes, (str, bytes, Mapping, pd.DataFrame)) or not hasattr(codes, "__iter__"):
            raise CodebookError(f"Codebook(): `codes` must be a list of Code objects, got {type(codes).__name__}; "
                                "read a codebook file with Codebook.from_yaml / from_csv / from_qdc, or a mapping "
                                "with Codebook.from_dict.")
        self.codes: list[Code] = list(codes)
        self.sets: list[dict] = [dict(s) for s in (sets or [])]
        self._validate(stages, _where or _Where(f"Codebook {self.name!r}"))
        self._by_name = {c.name: c for c in self.codes}

    # -- validation ---------------------------------------------------------------
    def _validate(self, stages, where: _Where) -> None:
        seen: dict[str, int] = {}
        for i, code in enumerate(self.codes):
            if not isinstance(code, Code):
                raise where.error(f"`codes` item {i + 1} is a {type(code).__name__}, expected a Code")
            if code.name in seen:
                raise where.error(f"duplicate code name (first defined as code {seen[code.name] + 1}); "
                                  "code names must be unique", "codes", i, "name", code=code.name)
            seen[code.name] = i
        for i, code in enumerate(self.codes):
            if code.parent is not None and code.parent not in seen:
                raise where.error(f"parent {code.parent!r} is not a code in this codebook", "codes", i, "parent",
                                  code=code.name)
        parent = {c.name: c.parent for c in self.codes}
        for i, code in enumerate(self.codes):
            chain, node = [code.name], code.parent
            while node is not None:
                if node == code.name:
                    raise where.error("the hierarchy has a cycle: " + " → ".join(chain + [node]) +
                                      "; a code cannot be its own ancestor", "codes", i, "parent", code=code.name)
                if node in chain:
                    break  # a cycle not through this code; reported when its own code is checked
                chain.append(node)
                node = parent[node]
        if stages is not None:
            stages = {str(s): [str(t) for t in (tps or [])] for s, tps in stages.items()}
            all_tps = {t: s for s, tps in stages.items() for t in tps}
            for i, code in enumerate(self.codes):
                if code.stage is not None and code.stage not in stages:
                    raise where.error(f"stage {code.stage!r} is not a stage of study.yml "
                                      f"({', '.join(stages)})", "codes", i, "stage", code=code.name)
                if code.touchpoint is not None:
                    allowed = stages[code.stage] if code.stage is not None else list(all_tps)
                    if code.touchpoint not in allowed:
                        scope = f"stage {code.stage!r}" if code.stage is not None else "study.yml"
                        raise where.error(f"touchpoint {code.touchpoint!r} is not a touchpoint of {scope} "
                                          f"({', '.join(allowed) or 'none'})", "codes", i, "touchpoint",
                                          code=code.name)

    # -- container protocol ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Code:
        try:
            return self._by_name[name]
        except KeyError:
            raise JourneylabError(f"Codebook {self.name!r} has no code {name!r}; codes: "
                                  f"{', '.join(self.names[:30])}{'…' if len(self) > 30 else ''}") from None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return (self.name, self.version, self.codes, self.sets) == (other.name, other.version, other.codes, other.sets)

    @property
    def names(self) -> list[str]:
        """Code names in codebook order."""
        return [c.name for c in self.codes]

    # -- hierarchy ----------------------------------------------------------------------
    def children(self, name: str | None) -> list[str]:
        """Names of the direct children of ``name`` (None: the top-level codes), in order."""
        if name is not None:
            self[name]
        return [c.name for c in self.codes if c.parent == name]

    def ancestors(self, name: str) -> list[str]:
        """Names of the ancestors of ``name``, nearest first."""
        out, node = [], self[name].parent
        while node is not None:
            out.append(node)
            node = self._by_name[node].parent
        return out

    def descendants(self, name: str) -> list[str]:
        """Names of every code below ``name`` (depth first)."""
        out = []
        for child in self.children(name):
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def depth(self, name: str) -> int:
        """0 for a top-level code, 1 for its children, ..."""
        return len(self.ancestors(name))

    def path(self, name: str, sep: str = "/") -> str:
        """The code's path from the top of the hierarchy, e.g. ``checkout_friction/forced_account``."""
        return sep.join(list(reversed(self.ancestors(name))) + [name])

    def walk(self) -> list[str]:
        """Code names in hierarchy order (each parent followed by its descendants)."""
        out = []
        for root in self.children(None):
            out.append(root)
            out.extend(self.descendants(root))
        return out

    def guid(self, name: str) -> str:
        """The code's REFI-QDA GUID: the imported one, or uuid5(codebook name, code name).

        Derived GUIDs depend only on the codebook's name and the code's name, so they are the
        same on every save, and moving a code in the hierarchy keeps its GUID.
        """
        code = self[name]
        if code.guid:
            return code.guid.strip("{}")
        return str(uuid.uuid5(GUID_NAMESPACE, f"{self.name}/{name}"))

    def _set_guid(self, label: str) -> str:
        return str(uuid.uuid5(GUID_NAMESPACE, f"{self.name}/set:{label}"))

    # -- YAML -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping, *, stages: Mapping | None = None, source: str = "codebook") -> "Codebook":
        """Build a codebook from the mapping of a parsed codebook.yml (see :meth:`from_yaml`)."""
        return cls._from_data(data, stages=stages, where=_Where(source))

    @classmethod
    def _from_data(cls, data, *, stages, where: _Where) -> "Codebook":
        if not isinstance(data, Mapping):
            raise where.error("expected a mapping with `name`, `version` and a `codes` list; "
                              f"found {type(data).__name__}")
        unknown = [k for k in data if k not in ("name", "version", "codes", "sets")]
        if unknown:
            raise where.error(f"unknown top-level key {unknown[0]!r}; expected name, version, codes (and sets)",
                              unknown[0])
        codes_raw = data.get("codes")
        if not isinstance(codes_raw, list):
            raise where.error(f"`codes` must be a list of codes; found {codes_raw!r}", "codes")
        codes = [_parse_code(raw, i, where) for i, raw in enumerate(codes_raw)]
        sets = data.get("sets") or []
        if not isinstance(sets, list) or not all(isinstance(s, Mapping) and "name" in s for s in sets):
            raise where.error("`sets` must be a list of mappings with name, guid, description, members", "sets")
        version = data.get("version")
        return cls(codes, name=str(data.get("name") or "codebook"), version=None if version is None else str(version),
                   sets=[{"name": str(s["name"]), "guid": s.get("guid"), "description": s.get("description") or "",
                          "members": [str(m) for m in (s.get("members") or [])]} for s in sets],
                   stages=stages, _where=where)

    @classmethod
    def from_yaml(cls, path, *, stages: Mapping[str, Iterable[str]] | None = None) -> "Codebook":
        """Read a ``codebook.yml``.

        Parameters
        ----------
        path : str or Path
            The YAML file (top-level ``name``, ``version``, ``codes``; see ``docs/coding.md``).
        stages : mapping of str to list of str, optional
            Stage → touchpoints from study.yml, used to check every code's stage and touchpoint.

        Returns
        -------
        Codebook

        Raises
        ------
        JourneylabError
            Naming the file, the YAML line and the code: unreadable YAML, unknown keys, duplicate
            names, unknown parents, cycles, unknown stages or touchpoints, invalid regexes.

        Examples
        --------
        >>> import journeylab as jl
        >>> cb = jl.Codebook.from_yaml(jl.datasets.sample_study_path() / "codebook.yml")
        >>> cb["forced_account"].parent
        'checkout_friction'
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise JourneylabError(f"{path}: cannot read the codebook: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise JourneylabError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        try:
            root, data = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = f"not valid YAML: {getattr(exc, 'problem', exc)}"
            raise CodebookError(f"{path}{where}: {problem}", file=str(path),
                                line=mark.line + 1 if mark is not None else None, problem=problem) from None
        return cls._from_data(data, stages=stages, where=_Where(str(path), root))

    def to_dict(self) -> dict:
        """The codebook as the mapping written to codebook.yml."""
        out: dict[str, Any] = {"name": self.name}
        if self.version is not None:
            out["version"] = self.version
        out["codes"] = [c.to_dict() for c in self.codes]
        if self.sets:
            out["sets"] = [dict(s) for s in self.sets]
        return out

    def to_yaml(self, path=None) -> str:
        """Write codebook.yml (or return its text when ``path`` is None).

        Every field is kept (``from_yaml(to_yaml())`` equals the codebook); comments of a
        hand-written file are not.
        """
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100,
                              default_flow_style=None)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # -- frames and display ---------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per code.

        Returns
        -------
        DataFrame
            ``code``, ``parent``, ``path``, ``depth``, ``kind``, ``stage``, ``touchpoint``,
            ``definition``, ``include``, ``exclude``, ``examples`` (joined with `` | ``),
            ``colour``, ``codable``, ``n_rules``, ``guid``.
        """
        rows = [{
            "code": c.name, "parent": c.parent, "path": self.path(c.name), "depth": self.depth(c.name),
            "kind": c.kind, "stage": c.stage, "touchpoint": c.touchpoint, "definition": c.definition,
            "include": c.include, "exclude": c.exclude, "examples": " | ".join(c.examples),
            "colour": c.colour, "codable": c.codable, "n_rules": c.rules.n_rules(), "guid": self.guid(c.name),
        } for c in self.codes]
        cols = ["code", "parent", "path", "depth", "kind", "stage", "touchpoint", "definition", "include",
                "exclude", "examples", "colour", "codable", "n_rules", "guid"]
        return pd.DataFrame(rows, columns=cols)

    def __repr__(self) -> str:
        n_roots = len(self.children(None))
        n_rules = sum(c.rules.n_rules() for c in self.codes)
        return (f"Codebook({self.name!r}, {len(self)} codes, {n_roots} top-level, "
                f"{n_rules} rules{', version ' + repr(self.version) if self.version else ''})")

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for name in self.walk():
            c = self[name]
            swatch = (f'<span style="display:inline-block;width:0.8em;height:0.8em;background:{esc(_hex(c.colour))};'
                      f'border-radius:2px;margin-right:4px"></span>') if c.colour else ""
            indent = "&nbsp;" * 4 * self.depth(name)
            rules = []
            for label, items in (("kw", c.rules.keywords), ("phr", c.rules.phrases), ("re", c.rules.regex)):
                if items:
                    rules.append(f"{label}: " + ", ".join(items[:4]) + ("…" if len(items) > 4 else ""))
            if c.rules.near:
                rules.append("near: " + ", ".join(f"{a}~{b}/{w}" for a, b, w in c.rules.near[:3]))
            stage = " / ".join(x for x in (c.stage, c.touchpoint) if x)
            rows.append(
                f"<tr><td style='text-align:left;white-space:nowrap'>{indent}{swatch}<b>{esc(name)}</b></td>"
                f"<td style='text-align:left'>{esc(c.kind or '')}</td><td style='text-align:left'>{esc(stage)}</td>"
                f"<td style='text-align:left'>{esc(c.definition)}</td>"
                f"<td style='text-align:left;font-size:85%'>{esc('; '.join(rules))}</td></tr>")
        head = ("<tr><th style='text-align:left'>code</th><th style='text-align:left'>kind</th>"
                "<th style='text-align:left'>stage / touchpoint</th><th style='text-align:left'>definition</th>"
                "<th style='text-align:left'>rules</th></tr>")
        title = f"<p><b>{esc(self.name)}</b>{' v' + esc(self.version) if self.version else ''} — {len(self)} codes</p>"
        return f"{title}<table>{head}{''.join(rows)}</table>"

    # -- REFI-QDA ------------------------------------------------------------------------
    def qdc_codes_element(self, namespace: str = QDC_NS) -> ET.Element:
        """The REFI-QDA ``<Codes>`` element (also used inside a project's ``project.qde``).

        Parameters
        ----------
        namespace : str
            ``urn:QDA-XML:codebook:1.0`` for a ``.qdc`` file, ``urn:QDA-XML:project:1.0`` in a project.
        """
        q = f"{{{namespace}}}"

        def add(parent_el, name):
            code = self[name]
            attrs = {"guid": self.guid(name), "name": name, "isCodable": "true" if code.codable else "false"}
            if code.colour:
                attrs["color"] = _hex(code.colour)
            el = ET.SubElement(parent_el, q + "Code", attrs)
            description = _compose_description(code)
            if description:
                ET.SubElement(el, q + "Description").text = description
            for child in self.children(name):
                add(el, child)

        codes_el = ET.Element(q + "Codes")
        for root in self.children(None):
            add(codes_el, root)
        return codes_el

    def qdc_sets_element(self, namespace: str = QDC_NS) -> ET.Element | None:
        """The REFI-QDA ``<Sets>`` element: one set per stage, touchpoint and kind, plus imported sets."""
        q = f"{{{namespace}}}"
        groups: dict[str, list[str]] = {}
        for field_name in ("stage", "touchpoint", "kind"):
            for c in self.codes:
                value = getattr(c, field_name)
                if value:
                    groups.setdefault(f"{field_name}: {value}", []).append(c.name)
        if not groups and not self.sets:
            return None
        sets_el = ET.Element(q + "Sets")
        for label, members in groups.items():
            el = ET.SubElement(sets_el, q + "Set", {"guid": self._set_guid(label), "name": label})
            ET.SubElement(el, q + "Description").text = f"journeylab {label.split(':')[0]}"
            for m in members:
                ET.SubElement(el, q + "MemberCode", {"guid": self.guid(m)})
        for s in self.sets:
            el = ET.SubElement(sets_el, q + "Set", {"guid": s.get("guid") or self._set_guid(s["name"]),
                                                    "name": s["name"]})
            if s.get("description"):
                ET.SubElement(el, q + "Description").text = s["description"]
            for m in s.get("members", []):
                if m in self:
                    ET.SubElement(el, q + "MemberCode", {"guid": self.guid(m)})
        return sets_el

    def to_qdc(self, path=None) -> str:
        """Write the codebook as a REFI-QDA codebook (``.qdc``; or return the XML when ``path`` is None).

        Hierarchy, colours, codability and descriptions are kept; the description of a code is
        its definition followed by ``Include:``, ``Exclude:`` and ``Examples:`` paragraphs.
        Stage, touchpoint and kind travel as code sets named ``stage: <name>`` etc. Matching
        rules are journeylab's own and are not part of the exchange format.

        Notes
        -----
        Format: REFI-QDA 1.5, section 5 (codebook exchange). GUIDs are stable across saves (see
        :meth:`guid`).
        """
        ET.register_namespace("", QDC_NS)
        root = ET.Element(f"{{{QDC_NS}}}CodeBook", {"origin": exporter_origin()})
        root.append(self.qdc_codes_element())
        sets_el = self.qdc_sets_element()
        if sets_el is not None:
            root.append(sets_el)
        ET.indent(root, space="  ")
        text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_qdc_elements(cls, codes_el: ET.Element, sets_el: ET.Element | None = None, *, name: str = "codebook",
                          source: str = "codebook") -> "Codebook":
        """Build a codebook from REFI-QDA ``<Codes>`` (and ``<Sets>``) elements of any namespace."""
        ns = codes_el.tag[: codes_el.tag.index("}") + 1] if codes_el.tag.startswith("{") else ""
        where = _Where(source)
        codes: list[Code] = []
        seen: set[str] = set()
        by_guid: dict[str, str] = {}

        def visit(el, parent):
            code_name = (el.get("name") or "").strip()
            guid = (el.get("guid") or "").strip().strip("{}")
            if not code_name:
                raise where.error(f"a <Code> (guid {guid or '?'}) has no name attribute")
            if code_name in seen:
                raise where.error(f"two codes are named {code_name!r}; journeylab needs unique code names "
                                  "(rename one in the other tool before exporting)")
            desc_el = el.find(ns + "Description")
            parts = parse_description(desc_el.text if desc_el is not None else "")
            seen.add(code_name)
            codes.append(Code(name=code_name, parent=parent, colour=el.get("color") or None,
                              codable=(el.get("isCodable", "true").strip().lower() in ("true", "1")),
                              guid=guid or None, definition=parts["definition"], include=parts["include"],
                              exclude=parts["exclude"], examples=parts["examples"]))
            by_guid[guid.strip("{}").lower()] = code_name
            for child in el.findall(ns + "Code"):
                visit(child, code_name)

        for el in codes_el.findall(ns + "Code"):
            visit(el, None)
        other_sets = []
        index = {c.name: i for i, c in enumerate(codes)}
        if sets_el is not None:
            for s in sets_el.findall(ns + "Set"):
                label = s.get("name") or ""
                members = [by_guid.get((m.get("guid") or "").strip("{}").lower()) for m in s.findall(ns + "MemberCode")]
                members = [m for m in members if m]
                m = _SET_RE.match(label)
                if m:
                    for member in members:
                        setattr(codes[index[member]], m.group(1), m.group(2))
                else:
                    desc_el = s.find(ns + "Description")
                    other_sets.append({"name": label, "guid": s.get("guid"),
                                       "description": (desc_el.text or "") if desc_el is not None else "",
                                       "members": members})
        return cls(codes, name=name, sets=other_sets, _where=where)

    @classmethod
    def from_qdc(cls, path, *, name: str | None = None) -> "Codebook":
        """Read a REFI-QDA codebook (``.qdc``) exported by NVivo, ATLAS.ti, MAXQDA, QualCoder or journeylab.

        Parameters
        ----------
        path : str or Path
        name : str, optional
            Codebook name; default: the file stem.

        Returns
        -------
        Codebook
            GUIDs of the file are kept on the codes, so saving again keeps them.
        """
        path = Path(path)
        try:
            root = parse_xml(path.read_bytes(), where=str(path))
        except (OSError, ET.ParseError) as exc:
            raise JourneylabError(f"{path}: cannot read the REFI-QDA codebook: {exc}") from None
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if root.tag != ns + "CodeBook":
            raise JourneylabError(f"{path}: expected a <CodeBook> root element (REFI-QDA .qdc); found <{root.tag}>")
        codes_el = root.find(ns + "Codes")
        if codes_el is None:
            raise JourneylabError(f"{path}: the <CodeBook> has no <Codes> element")
        return cls.from_qdc_elements(codes_el, root.find(ns + "Sets"), name=name or path.stem, source=str(path))

    # -- CSV (Taguette) ------------------------------------------------------------------
    def to_csv(self, path=None, *, sep: str = ".") -> str:
        """Write the codebook as CSV with columns ``path`` and ``description`` (Taguette's import format).

        ``path`` is the code's hierarchy joined with ``sep`` (Taguette uses dots:
        ``checkout_friction.forced_account``); ``description`` is as in :meth:`to_qdc`.
        Returns the CSV text.
        """
        buf = io.StringIO()
        rows = [[neutralise(self.path(name, sep=sep)), neutralise(_compose_description(self[name]))]
                for name in self.walk()]  # no cell a spreadsheet would run as a formula (journeylab/_csv.py)
        bare_cr = any("\r" in cell for row in rows for cell in row)  # else written unquoted: rows would split
        writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL)
        writer.writerow(["path", "description"])
        writer.writerows(rows)
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_csv(cls, path, *, sep: str | None = ".", name: str | None = None) -> "Codebook":
        """Read a codebook CSV: a ``name``, ``path`` or ``tag`` column, optional ``description`` and ``parent``.

        Parameters
        ----------
        path : str or Path
        sep : str or None, default "."
            Hierarchy separator in the name/path column (Taguette: "."); None: names are flat.
            Missing intermediate codes are created.
        name : str, optional
            Codebook name; default: the file stem.
        """
        path = Path(path)
        rows = read_rows(path, what="the codebook CSV")
        if not rows:
            raise JourneylabError(f"{path}: empty file; expected a header with a name, path or tag column")
        header = [h.strip().lower() for h in rows[0]]
        keys = [k for k in ("name", "path", "tag") if k in header]
        if len(keys) != 1:
            raise JourneylabError(f"{path}, line 1: expected exactly one of the columns name, path, tag; "
                                  f"found {', '.join(rows[0]) or 'no columns'}")
        i_name = header.index(keys[0])
        i_desc = header.index("description") if "description" in header else None
        i_parent = header.index("parent") if "parent" in header else None
        codes: dict[str, Code] = {}
        explicit: set[str] = set()
        for line_no, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            full = row[i_name].strip() if i_name < len(row) else ""
            if not full:
                raise JourneylabError(f"{path}, line {line_no}: empty code name in column {rows[0][i_name]!r}")
            parts = [p.strip() for p in full.split(sep)] if sep else [full]
            if any(not p for p in parts):
                raise JourneylabError(f"{path}, line {line_no}: code path {full!r} has an empty part")
            parent = None
            if i_parent is not None and i_parent < len(row) and row[i_parent].strip():
                parent = row[i_parent].strip()
            for j, part in enumerate(parts[:-1]):
                if part not in codes:
                    codes[part] = Code(part, parent=parent if j == 0 else parts[j - 1])
            leaf = parts[-1]
            leaf_parent = parts[-2] if len(parts) > 1 else parent
            desc = parse_description(row[i_desc] if i_desc is not None and i_desc < len(row) else "")
            if leaf in explicit:
                raise JourneylabError(f"{path}, line {line_no}: code {leaf!r} appears twice; names must be unique")
            explicit.add(leaf)
            codes[leaf] = Code(leaf, parent=leaf_parent, definition=desc["definition"], include=desc["include"],
                               exclude=desc["exclude"], examples=desc["examples"])
        return cls(list(codes.values()), name=name or path.stem, _where=_Where(str(path)))

    # -- editing -------------------------------------------------------------------------
    def with_codes(self, codes: Iterable[Code]) -> "Codebook":
        """A new codebook with the given codes (same name, version and sets)."""
        return Codebook(codes, name=self.name, version=self.version, sets=self.sets)


def exporter_origin() -> str:
    try:
        return f"journeylab {version('journeylab')}"
    except Exception:  # pragma: no cover - source tree without metadata
        return "journeylab"
