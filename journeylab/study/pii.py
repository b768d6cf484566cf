"""Detectors of personal details in free text, used by :mod:`journeylab.study.redact`.

Each ``find_<kind>(text, pos, endpos)`` returns ``(start, end, kind, placeholder)`` spans of
``text[pos:endpos]``; overlaps are resolved by the caller. Phone numbers go through Google's
libphonenumber (``phonenumbers``); card numbers are Luhn-checked, IBANs mod-97-checked; the rest
are patterns, each tested on the labelled corpus ``tests/data/pii_corpus.yml``
(``benchmarks/bench_redaction.py`` prints recall and precision per kind). Names of people who are
not participants come from a first-name list (``journeylab/data/names/``, US Census 1990, public
domain, plus hand additions) and from context ("my sister X", "Mr X", "X Smith"). See
``docs/transcripts.md``, section "PII redaction".
"""
from __future__ import annotations

__all__ = ["PLACEHOLDERS", "PhoneFinder", "PersonFinder", "find_email", "find_url", "find_card", "find_iban",
           "find_bank", "find_ip", "find_handle", "find_dob", "find_nino", "find_order_context", "find_address",
           "luhn_ok", "iban_ok"]

import re
from functools import lru_cache
from pathlib import Path

import phonenumbers

PLACEHOLDERS = {"email": "[EMAIL]", "url": "[URL]", "phone": "[PHONE]", "card": "[CARD]", "iban": "[IBAN]",
                "bank": "[BANK]", "ip": "[IP]", "handle": "[HANDLE]", "dob": "[DOB]", "nino": "[NINO]",
                "order": "[ORDER]", "address": "[ADDRESS]", "person": "[PERSON]"}
_NAMES_DIR = Path(__file__).resolve().parent.parent / "data" / "names"

# ----------------------------------------------------------------------------- searching only where a word occurs

#: The characters other than ASCII letters that ``re.IGNORECASE`` equates with an ASCII letter, and the
#: letter (İ ı → i, ſ → s, Kelvin sign → k; found by trying every code point, tests/test_redact.py).
_ASCII_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}


_FOLD_CHARS = "".join(map(chr, _ASCII_FOLD))


def _lowered(text: str) -> str | None:
    """``text`` lower-cased position for position, so that a case-insensitive pattern matches an ASCII word
    at ``i`` only where the word occurs in the result at ``i``; None when lowering would shift positions."""
    if text.isascii() or not any(ch in text for ch in _FOLD_CHARS):  # translate is slow on non-ASCII text
        low = text.lower()
    else:
        low = text.translate(_ASCII_FOLD).lower()
    return low if len(low) == len(text) else None


@lru_cache(maxsize=4)
def _lowered_window(text: str, pos: int, endpos: int) -> str | None:
    """:func:`_lowered` of ``text[pos:endpos]``, remembered: the detectors of one search share it."""
    return _lowered(text[pos:endpos])


def _keyword_scan(rx: re.Pattern, words: tuple, text: str, pos: int, endpos: int):
    """The matches of ``rx.finditer(text, pos, endpos)``, trying ``rx`` only where one of ``words`` occurs.

    For a case-insensitive pattern every match of which begins with one of ``words`` (ASCII, lower
    case): the places are found by ``str.find`` on the lowered text (C speed), and ``rx.match`` is
    tried there in order, each search resuming after the previous match, as ``finditer`` does.
    ``\b`` and look-behinds see the text before each place, as they do in ``finditer``. A regular
    expression that starts with ``\b`` or a look-behind is otherwise tried at every position of a
    long transcript (Python's engine skips ahead only to a literal first character).
    """
    low = _lowered_window(text, pos, endpos)
    if low is None:
        yield from rx.finditer(text, pos, endpos)
        return
    places = set()
    for w in words:
        i = low.find(w)
        while i != -1:
            places.add(i)
            i = low.find(w, i + 1)
    last = pos
    for i in sorted(places):
        i += pos
        if i < last:
            continue
        m = rx.match(text, i, endpos)
        if m:
            yield m
            last = m.end() if m.end() > i else i + 1


# ----------------------------------------------------------------------------- email, URL, handle

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*?(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w@])")
_TLD = r"(?:com|net|org|edu|gov|io|co|uk|de|fr|es|it|nl|ie|eu|info|biz|me|us|ca|au|nz|in|app|dev|ch|at|be|se|no|dk)"
_DOT = r"(?:[ \t]*(?:\.|\(dot\)|\[dot\])[ \t]*|[ \t]+dot[ \t]+)"
_AT = r"(?:[ \t]*(?:@|\(at\)|\[at\])[ \t]*|[ \t]+at[ \t]+)"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.'’-])([A-Za-z0-9][A-Za-z0-9_+-]*(?:{_DOT}[A-Za-z0-9_+-]+)*){_AT}"
    rf"[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}{_TLD}\b", re.IGNORECASE)
_NOT_LOCAL = frozenset("i m me look looked looking is be it him her them us you we that this was were am are s t "
                       "go went going get got be been stay stayed live lived work worked shop shopped buy bought "
                       "them arrive arrived email emailed mail message it's there here at".split())
_AT_DOMAIN = re.compile(r" at [a-z0-9-]+\.[a-z]")
_URL = re.compile(r"(?:\bhttps?://|\bwww\.|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/)[^\s<>\"'`]+",
                  re.IGNORECASE)
_TOKENISH = re.compile(r"[A-Za-z0-9_-]{20,}|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{10,}"
                       r"|(?<![A-Za-z0-9_-])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{6,}(?![A-Za-z0-9_-])")
_HANDLE = re.compile(r"(?<![\w@./+-])@[A-Za-z_][A-Za-z0-9_.]{1,29}(?<!\.)")


_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")  # _EMAIL's local part


def _email_matches(text: str, pos: int, endpos: int):
    """``_EMAIL.finditer(text, pos, endpos)``, trying the pattern only in the run of local-part characters
    before each ``@`` / ``%40`` (every match starts there; elsewhere the look-behind-led pattern would be
    tried at every position)."""
    places = set()
    for at in ("@", "%40"):
        a = text.find(at, pos, endpos)
        while a != -1:
            r = a
            while r > pos and text[r - 1] in _LOCAL:
                r -= 1
            places.update(range(r, a))
            a = text.find(at, a + 1, endpos)
    last = pos
    for i in sorted(places):
        if i < last:
            continue
        m = _EMAIL.match(text, i, endpos)
        if m:
            yield m
            last = m.end()


def find_email(text: str, pos: int, endpos: int) -> list:
    """``name@domain.tld`` (also URL-encoded ``%40``) and e-mails written out ("maya at gmail dot com")."""
    low = text[pos:endpos].lower()
    out = ([(m.start(), m.end(), "email", "[EMAIL]") for m in _email_matches(text, pos, endpos)]
           if "@" in low or "%40" in low else [])
    if (" dot " in low or "(dot)" in low or "[dot]" in low or "(at)" in low or "[at]" in low
            or _AT_DOMAIN.search(low)):
        for m in _SPELLED_EMAIL.finditer(text, pos, endpos):
            local = m.group(1)
            if local.lower() in _NOT_LOCAL or "@" in m.group(0) and "dot" not in m.group(0).lower():
                continue
            out.append((m.start(), m.end(), "email", "[EMAIL]"))
    return out


def find_url(text: str, pos: int, endpos: int) -> list:
    """URLs that carry something personal: a query string, a fragment, an e-mail or a token-like part."""
    out = []
    for m in _URL.finditer(text, pos, endpos):
        s, e = m.start(), m.end()
        while e > s and text[e - 1] in ".,;:!?)]}":
            e -= 1
        url = text[s:e]
        rest = url.split("/", 3)[-1] if "//" in url else url.split("/", 1)[-1]
        if ("?" in url and "=" in url) or "#" in url or "%40" in url or "@" in url or _TOKENISH.search(rest):
            out.append((s, e, "url", "[URL]"))
    return out


def find_handle(text: str, pos: int, endpos: int) -> list:
    """Social-media handles (``@maya_o``); e-mail addresses are not handles."""
    out = []
    for m in _HANDLE.finditer(text, pos, endpos):
        e = m.end()
        if e < endpos and text[e] == "@":
            continue
        out.append((m.start(), e, "handle", "[HANDLE]"))
    return out


# ----------------------------------------------------------------------------- phones


class PhoneFinder:
    """Phone numbers found by libphonenumber's ``PhoneNumberMatcher``.

    A number is accepted when libphonenumber calls it *valid* for the study's ``region`` or one of
    ``extra_regions`` (national numbers: ``020 7946 0018`` in GB, ``4155550111`` in the US), or
    *possible* when it is written the way phone numbers are dialled (a ``+``/``00`` international
    prefix, a national trunk ``0`` or an area code in brackets) with at least 10 digits — so
    reserved ranges used in fiction and tests (``07700 900123``) are replaced too. Digit runs that
    could not be a phone number (fewer than 7 digits) are never handed to the matcher.
    """

    _CANDIDATE = re.compile(r"[+(]?\d[\d \t().\-/]{5,80}\d")

    def __init__(self, region: str = "GB", extra_regions=("US",)):
        self.regions = [region] + [r for r in extra_regions if r != region]
        self._trunk = {}
        for r in self.regions:
            meta = phonenumbers.PhoneMetadata.metadata_for_region(r)
            self._trunk[r] = (meta.national_prefix or "") if meta is not None else ""

    def find(self, text: str, pos: int, endpos: int) -> list:
        out = []
        for c in self._CANDIDATE.finditer(text, pos, endpos):
            window = c.group(0)
            if sum(ch.isdigit() for ch in window) < 7:
                continue
            base = c.start()
            # a window may hold several numbers ("4111 1111 1111 1111 07700 900123"): each start at a
            # space-separated group, the longest candidate libphonenumber accepts wins
            starts = [0] + [k + 1 for k, ch in enumerate(window[:-1]) if ch == " " and window[k + 1] in "0123456789+("]
            n = len(window)
            ends = [k + 1 for k, ch in enumerate(window) if ch.isdigit() and (
                k + 1 == n or window[k + 1] in " )"
                or (window[k + 1] in ".,-/" and (k + 2 == n or window[k + 2] == " ")))]
            done = 0
            for st in starts[:24]:
                if st < done:
                    continue
                for en in reversed([e for e in ends if e > st][:7]):
                    cand = window[st:en]
                    if self._accept(cand, text, base + st, base + en):
                        out.append((base + st, base + en, "phone", "[PHONE]"))
                        done = en
                        break
        return out

    def _accept(self, cand: str, text: str, s: int, e: int) -> bool:
        digits = sum(ch.isdigit() for ch in cand)
        if not 7 <= digits <= 16 or self._DATE.fullmatch(cand):
            return False
        before = text[s - 1] if s > 0 else " "
        after = text[e] if e < len(text) else " "
        if before.isalnum() or before in "£$€¥#-/.:,_" or after.isalnum() or after in "%£$€_" or (
                after in "-/.:," and e + 1 < len(text) and text[e + 1].isdigit()):
            return False
        international = cand[0] == "+" or cand.startswith("00")
        for i, region in enumerate(self.regions):
            try:
                num = phonenumbers.parse(cand, region)
            except phonenumbers.NumberParseException:
                continue
            if (not international and self._trunk[region] == "0"
                    and not (cand.startswith("0") or cand.startswith("(0"))):
                continue  # where national numbers are dialled with a 0 (GB, DE, FR, ...), they are written with it
            if phonenumbers.is_valid_number(num):
                return True
            if (i == 0 and digits >= 10 and (cand[0] in "+(" or cand.startswith("0"))
                    and phonenumbers.is_possible_number(num)):
                return True
        return False

    _DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


# ----------------------------------------------------------------------------- cards, IBAN, bank


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check digit test (Luhn, US patent 2,950,048)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_CARD = re.compile(r"(?<![\w.,+:/-])\d+(?:(?:[ .\-/_]|[ ]-[ ])\d+)*(?!\w)")


def _card_grouping_ok(sizes: list) -> bool:
    """How card numbers are written: one block, groups of 4 (last 1-4), Amex/Diners 4-6-5 / 4-6-4."""
    if len(sizes) == 1 or sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _card_spans(groups: list, digits: list) -> list:
    best = None
    for i in range(len(groups)):
        n, sizes = 0, []
        for j in range(i, len(groups)):
            sizes.append(len(digits[j]))
            n += sizes[-1]
            if n > 19:
                break
            if (n >= 13 and (best is None or n > best[2]) and _card_grouping_ok(sizes)
                    and luhn_ok("".join(digits[i:j + 1]))):
                best = (i, j, n)
    if best is None:
        return []
    i, j, _ = best
    return (_card_spans(groups[:i], digits[:i]) + [(groups[i][0], groups[j][1])]
            + _card_spans(groups[j + 1:], digits[j + 1:]))


def find_card(text: str, pos: int, endpos: int) -> list:
    """13-19 digit card numbers, grouped as cards are printed (any separators), passing the Luhn check."""
    out = []
    for m in (_CARD.finditer(text, pos, endpos) if _CARD_HINT.search(text, pos, endpos) else ()):
        run = m.group(0)
        if len(run) < 13:
            continue
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", run)]
        out += [(a, b, "card", "[CARD]") for a, b in _card_spans(groups, [text[a:b] for a, b in groups])]
    return out


# parts every kept match holds (led by a character class or literal: found at C speed); the patterns, led by a
# look-behind, are tried at every position, so they run only when their part is in the text
_CARD_HINT = re.compile(r"\d[\d .\-/_]{11,}\d")  # a run of 13+ characters of digits and separators
_IBAN_HINT = re.compile(r"[A-Za-z]{2}\d{2}")
_NINO_HINT = re.compile(r"\d\d ?\d\d ?\d\d")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}")
_IBAN_LENGTHS = {"GB": 22, "DE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "IE": 22, "BE": 16, "PT": 25,
                 "CH": 21, "AT": 20, "SE": 24, "DK": 18, "NO": 15, "FI": 18, "PL": 28, "LU": 20, "GR": 27}


def iban_ok(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters → 10..35, mod 97 == 1."""
    s = iban.upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if _IBAN_LENGTHS.get(s[:2], len(s)) != len(s):
        return False
    return int("".join(str(int(ch, 36)) for ch in s[4:] + s[:4])) % 97 == 1


def find_iban(text: str, pos: int, endpos: int) -> list:
    """IBANs, with or without spaces, upper or lower case, that pass the mod-97 check."""
    out = []
    for m in (_IBAN.finditer(text, pos, endpos) if _IBAN_HINT.search(text, pos, endpos) else ()):
        cand = m.group(0)
        ends = [k for k in range(len(cand), 14, -1) if k == len(cand) or cand[k] == " "]
        for k in ends:
            piece = cand[:k].rstrip()
            if iban_ok(piece.replace(" ", "")) and (
                    k == len(cand) or not text[m.start() + k - 1:m.start() + k].isspace()):
                e = m.start() + len(piece)
                if e >= len(text) or not text[e].isalnum():
                    out.append((m.start(), e, "iban", "[IBAN]"))
                    break
    return out


_SORT = r"\d{2}[-– ]\d{2}[-– ]\d{2}|\d{6}"
_ACC_WORDS = r"(?:(?:bank\s+)?account|acc|a/c)(?:\s+(?:number|no\.?|num))?"
_BANK_SORT = re.compile(rf"\bsort[ -]?code\b[\s:,]*(?:(?:is|was|=)\s*)?({_SORT})(?!\d)", re.IGNORECASE)
_BANK_ACC = re.compile(rf"\b{_ACC_WORDS}[\s:,#]*(?:(?:is|was|=)\s*)?(\d{{8}})(?!\d)", re.IGNORECASE)
_BANK_PAIR = re.compile(r"(?<![\d.-])(\d{2}-\d{2}-\d{2})[ ,;/]+(?:(?:account|acc|a/c)\s*)?(\d{8})(?!\d)", re.IGNORECASE)


_BANK_WORDS = {_BANK_SORT: ("sort",), _BANK_ACC: ("bank", "acc", "a/c")}  # every match begins with one
_SORT_CODE = re.compile(r"\d\d-\d\d-\d\d")  # in every _BANK_PAIR match


def find_bank(text: str, pos: int, endpos: int) -> list:
    """UK sort codes and account numbers: after "sort code"/"account (number)", or as ``12-34-56 12345678``."""
    out = []
    for rx in (_BANK_SORT, _BANK_ACC, _BANK_PAIR):
        if rx is _BANK_PAIR:
            found = rx.finditer(text, pos, endpos) if _SORT_CODE.search(text, pos, endpos) else ()
        else:
            found = _keyword_scan(rx, _BANK_WORDS[rx], text, pos, endpos)
        for m in found:
            out += [(m.start(g), m.end(g), "bank", "[BANK]") for g in range(1, rx.groups + 1) if m.group(g)]
    plain = text[pos:endpos].lower()
    if "sort" in plain or "acc" in plain:
        # "sort code 20-00-00, account 12345678": the account after a found sort code
        for m in _keyword_scan(_BANK_SORT, _BANK_WORDS[_BANK_SORT], text, pos, endpos):
            tail = re.match(r"[\s,;/]+(?:and\s+)?(?:the\s+|my\s+)?(?:" + _ACC_WORDS
                            + r"[\s:,#]*(?:(?:is|was)\s*)?)?(\d{8})(?!\d)",
                            text[m.end():min(endpos, m.end() + 60)], re.IGNORECASE)
            if tail:
                out.append((m.end() + tail.start(1), m.end() + tail.end(1), "bank", "[BANK]"))
    return out


# ----------------------------------------------------------------------------- IP, NINO, DOB, order numbers

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(rf"(?<![\w:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}:(?:{_H}(?::{_H}){{0,5}})?"
                   rf"|::(?:{_H}(?::{_H}){{0,6}}))(?![\w:])")


# in every IPv4 address; in every IPv6 address kept (3+ colons, one of them between two of its characters).
# Led by a character class, so the engine skips to candidates at C speed (the full patterns start with a
# look-behind and are tried at every position)
_IPV4_HINT = re.compile(r"\d\.\d")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:")  # 3 colons in a run of hex digits and colons


def find_ip(text: str, pos: int, endpos: int) -> list:
    """IPv4 (four octets 0-255) and IPv6 addresses (full or ``::``-compressed, 3+ groups)."""
    out = ([(m.start(), m.end(), "ip", "[IP]") for m in _IPV4.finditer(text, pos, endpos)]
           if _IPV4_HINT.search(text, pos, endpos) else [])
    for m in (_IPV6.finditer(text, pos, endpos) if _IPV6_HINT.search(text, pos, endpos) else ()):
        if m.group(0).count(":") >= 3 and re.search(r"[0-9A-Fa-f]{3}", m.group(0)):
            out.append((m.start(), m.end(), "ip", "[IP]"))
    return out


_NINO = re.compile(r"(?<![A-Za-z0-9])(?!(?:BG|GB|NK|KN|TN|NT|ZZ)|(?:bg|gb|nk|kn|tn|nt|zz))"
                   r"[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]"
                   r"[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-Da-d](?![A-Za-z0-9])")


def find_nino(text: str, pos: int, endpos: int) -> list:
    """UK National Insurance numbers (``QQ 12 34 56 C``; prefixes that are never issued excluded)."""
    out = []
    for m in (_NINO.finditer(text, pos, endpos) if _NINO_HINT.search(text, pos, endpos) else ()):
        letters = m.group(0)[:2] + m.group(0)[-1]
        if letters.isupper() or letters.islower():
            out.append((m.start(), m.end(), "nino", "[NINO]"))
    return out


_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE = (rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|"
         rf"\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTHS}\.?(?:,?\s+(?:19|20)\d{{2}})?|"
         rf"{_MONTHS}\.?\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?)(?![\w/])")
_DOB = re.compile(
    rf"\b(?:born(?:\s+on)?|date\s+of\s+birth|d\.?o\.?b\.?|birth\s?-?day|birth\s?date)"
    rf"(?:\s+(?:is|was|'s|’s|=))?[\s:,-]*(?:(?:on|the)\s+)*({_DATE})"
    rf"|\bborn\s+in\s+({_MONTHS}\.?\s+(?:19|20)\d{{2}})", re.IGNORECASE)


_DOB_WORDS = ("born", "date", "do", "d.", "birth")  # every _DOB match begins with one ("dob", "d.o.b")


def find_dob(text: str, pos: int, endpos: int) -> list:
    """Dates of birth: a date after "born (on)", "date of birth", "DOB", "birthday"; other dates stay."""
    out = []
    for m in _keyword_scan(_DOB, _DOB_WORDS, text, pos, endpos):
        g = 1 if m.group(1) else 2
        out.append((m.start(g), m.end(g), "dob", "[DOB]"))
    return out


_ORDER_CTX = re.compile(
    r"\b(?:order|customer|client|account|membership|member|reference|ref|booking|ticket|case|invoice|tracking|"
    r"confirmation|loyalty(?:\s+card)?|policy|reservation|parcel|shipment|return|rma)"
    r"(?:\s+(?:number|no\.?|num|id|code|ref))?\s*(?:(?:is|was|=)\s+|[:#]\s*)?#?"
    r"((?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z]|\d{5,})[A-Za-z0-9](?:[A-Za-z0-9-]{3,22})[A-Za-z0-9])(?![\w-])",
    re.IGNORECASE)


_ORDER_WORDS = ("order", "customer", "client", "account", "member", "ref", "booking", "ticket", "case", "invoice",
                "tracking", "confirmation", "loyalty", "policy", "reservation", "parcel", "shipment", "return", "rma")


def find_order_context(text: str, pos: int, endpos: int) -> list:
    """Order, customer, booking, ticket ... numbers named as such ("order no. 88231-B", "customer ID C9912")."""
    out = []
    for m in _keyword_scan(_ORDER_CTX, _ORDER_WORDS, text, pos, endpos):
        tok = m.group(1)
        if (re.fullmatch(r"(?:19|20)\d{2}", tok)
                or re.fullmatch(r"\d+(?:st|nd|rd|th|am|pm|s|x|mm|cm|kg|ml|gb)", tok, re.I)):
            continue
        out.append((m.start(1), m.end(1), "order", "[ORDER]"))
    return out


# ----------------------------------------------------------------------------- addresses

_STREET_TYPES = (r"(?:Road|Rd|Street|St|Close|Lane|Ln|Avenue|Ave|Drive|Dr|Way|Crescent|Cres|Gardens|Gdns|Court|Ct|"
                 r"Place|Pl|Terrace|Tce|Grove|Mews|Row|Square|Sq|Walk|Rise|Parade|Boulevard|Blvd|Hill|View|Green|"
                 r"Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl|Plaza|Park|Loop|Pike|Broadway|Esplanade)")
_POSTCODE = r"(?:GIR[ ]?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ ]?\d[ABD-HJLNP-UW-Z]{2})"
_ADDRESS = re.compile(rf"""
    \d(?<![\w-].)\d{{0,4}}[A-Za-z]?,?[ \t]+
    (?:(?:[A-Z][\w'’.-]*|\d+(?:st|nd|rd|th)|[NSEW]\.?)[ \t]+){{1,3}}{_STREET_TYPES}\b
    (?:,?[ \t]+(?:Apt|Apartment|Unit|Suite|Ste|Flat|\#)\.?[ \t]*\w{{1,5}}\b)?
    (?:,?[ \t]+(?!I\b)[A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}
       (?=,?[ \t]+{_POSTCODE}\b|,?[ \t]+[A-Z]{{2}}[ \t]+\d{{5}}\b|[ \t]*[,.;:!?)]|[ \t]*$))?   # town
    (?:,?[ \t]+{_POSTCODE}\b)?
    """, re.VERBOSE)
_FLAT = re.compile(r"(?:Flat|Apartment|Apt|Unit)\.?[ \t]+\d{1,4}[A-Za-z]?,?[ \t]+\Z")
_POSTCODE_ALONE = re.compile(r"(?<![\w-])(?:GIR[ ]?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ ]?\d[ABD-HJLNP-UW-Z]{2})"
                             r"(?![\w-])", re.IGNORECASE)
_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
           "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC")
_ZIP = re.compile(rf"\b(?:{_STATES})\.?[ \t]+\d{{5}}(?:-\d{{4}})?(?![\w-])|(?<![\w.-])\d{{5}}-\d{{4}}(?![\w-])")
# where someone lives: "we're in Didcot", "I live in Little Whitley", "moved to Harrogate"
_PLACE_CTX = re.compile(
    r"\b(?:(?:we|I|they|she|he)(?:'re|’re|'m|’m| are| am| is| was| were)\s+(?:based\s+|living\s+|now\s+)?in"
    r"|(?:live|lives|lived|living|based|grew\s+up|moved|moving|relocated)\s+(?:in|to|near|outside)"
    r"|(?:from|in)\s+the\s+village\s+of)\s+"
    r"((?:[A-Z][a-z]+|St\.?)(?:[ -](?:on|upon|in|under|le|by|the|[A-Z][a-z]+)){0,3})(?<![ -]on)(?<![ -]upon)(?<![ -]in)"
    r"(?<![ -]the)(?<![ -]by)(?![\w-])")
_NOT_PLACE = frozenset("The A An My Our Your His Her Their This That There Here January February March April May June "
                       "July August September October November December Monday Tuesday Wednesday Thursday Friday "
                       "Saturday Sunday Christmas Summer Winter Spring Autumn".split())
_DIGIT = re.compile(r"\d")
_FIVE = re.compile(r"(?<!\d)\d{5}(?!\d)")
# parts every match of a pattern holds, led by a character class (found at C speed): the pattern runs only
# where its part is (the patterns start with \b or a look-behind and are tried at every position)
_FIVE_HINT = re.compile(r"\d{5}")
_POSTCODE_HINT = re.compile(r"\d[ABD-HJLNP-UW-Z]{2}", re.IGNORECASE)  # the inward code, as in _POSTCODE_ALONE
_PLACE_HINT = re.compile(r"(?:in|to|near|outside|of)\s+(?:[A-Z]|St)")  # the end of _PLACE_CTX's lead-in
_ZIP_CTX = re.compile(r"\bzip(?:[ -]?code)?[\s:,#]*(?:(?:is|was)\s+)?(\d{5}(?:-\d{4})?)(?![\w-])", re.IGNORECASE)


def find_address(text: str, pos: int, endpos: int) -> list:
    """Street addresses (UK and US), UK postcodes (any case, spaced or not) and US ZIP codes."""
    out = []
    if not _DIGIT.search(text, pos, endpos):
        return [(m.start(1), m.end(1), "address", "[PLACE]") for m in _place_matches(text, pos, endpos)
                if m.group(1).split()[0] not in _NOT_PLACE]
    for m in _ADDRESS.finditer(text, pos, endpos):
        flat = _FLAT.search(text, max(pos, m.start() - 24), m.start())
        out.append((flat.start() if flat else m.start(), m.end(), "address", "[ADDRESS]"))
    for m in (_POSTCODE_ALONE.finditer(text, pos, endpos) if _POSTCODE_HINT.search(text, pos, endpos) else ()):
        pc = m.group(0)
        if not (pc.isupper() or pc.islower() or " " in pc):
            continue  # mixed case without a space: a word, not a postcode
        if pc.islower() and (pc[-2:] in ("th", "st", "nd", "rd") or " " not in pc):
            continue  # "m2 5th", "the m25th"
        out.append((m.start(), m.end(), "address", "[ADDRESS]"))
    if _FIVE_HINT.search(text, pos, endpos) and _FIVE.search(text, pos, endpos):
        out += [(m.start(), m.end(), "address", "[ADDRESS]") for m in _ZIP.finditer(text, pos, endpos)]
        out += [(m.start(1), m.end(1), "address", "[ADDRESS]")
                for m in _keyword_scan(_ZIP_CTX, ("zip",), text, pos, endpos)]
    for m in _place_matches(text, pos, endpos):
        if m.group(1).split()[0] not in _NOT_PLACE:
            out.append((m.start(1), m.end(1), "address", "[PLACE]"))
    return out


def _place_matches(text: str, pos: int, endpos: int):
    return _PLACE_CTX.finditer(text, pos, endpos) if _PLACE_HINT.search(text, pos, endpos) else ()


# ----------------------------------------------------------------------------- people who are not participants


@lru_cache(maxsize=None)
def _name_list(name: str) -> frozenset:
    with open(_NAMES_DIR / name, encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


_CAP = re.compile(r"(?<![\w'’@#.-])[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[-'’][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?(?![\w@-])")
_RELATIONS = (r"sister|brother|sis|bro|wife|husband|partner|son|daughter|friend|mate|pal|mum|mom|mother|dad|father|"
              r"colleague|boss|manager|neighbour|neighbor|cousin|aunt|auntie|uncle|nan|nana|gran|granny|grandma|"
              r"grandmother|grandad|granddad|grandpa|grandfather|boyfriend|girlfriend|fiancée?|flatmate|roommate|"
              r"housemate|niece|nephew|kid|kids|child|children|baby|toddler|stepson|stepdaughter|ex|"
              r"mother-in-law|father-in-law|sister-in-law|brother-in-law|courier|driver|landlord|landlady|"
              r"teacher|doctor|carer|nanny|babysitter|cleaner|agent|advisor|adviser|rep")
_CONTEXT_BEFORE = re.compile(
    rf"(?:\b(?:my|our|his|her|their|your|the|a)\s+(?:\w+\s+){{0,2}}(?:{_RELATIONS})s?(?:'s|’s)?"
    # within one sentence: a full stop or a line break between the relation and the word ends it
    # ("I asked my friend. Did you go?")
    rf"(?:[ \t]*[,:;—–-][ \t]*|[ \t]+(?:is[ \t]+|was[ \t]+)?(?:called[ \t]+|named[ \t]+)?)"
    rf"|\b(?:called|named|name's|name’s|name\s+is|name\s+was|ask\s+for|spoke\s+to|talked\s+to|chatted\s+to)[ \t]+"
    rf"|\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Auntie|Aunty|Aunt|Uncle|Nana|Nan|"
    rf"Granny|Grandma|Grandpa|Grandad)\.?[ \t]+)$",
    re.IGNORECASE)
_SPEECH = frozenset("said says told tells asked asks reckons reckoned thinks thought wanted wants mentioned "
                    "recommended suggested sent showed shows texted messaged rang called emailed loves loved "
                    "hates hated uses used bought buys ordered orders swears swore".split())
_NOT_NAME = frozenset("""The A An This That These Those My Our Your His Her Their Its I We You He She They It And But Or
So If When Then There Here What Who Why How Where Which Yes No Not Oh Ah Um Uh Er Hmm Okay Ok Well Right Sure
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December Christmas Easter English British French German Spanish Italian Irish Scottish
Welsh American European Google Amazon Apple Facebook Instagram Twitter Tiktok Youtube Whatsapp Paypal Visa Mastercard
Interviewer Moderator Participant Speaker Customer Service Support Team Thanks Thank Hi Hello Dear Cheers Just Also
Maybe Really Actually Honestly Basically Obviously Anyway Still Even Very Quite Only Both All Every Each Some Any
One Two Three Four Five Six Seven Eight Nine Ten First Second Third Last Next New Old Big Little Good Great Best
Street Road Lane Avenue Close Drive Way North South East West Mr Mrs Ms Miss Dr Prof Sir Dame Lady Lord""".split())
_PHRASE_FOLLOWERS = frozenset("""so not to for of up down out off on in at with from by as than into onto about
i you we they he she it me us them my your our their his her its this that these those the a an some any all every
each no be been being am is are was were will would can could should shall may might must do does did has have
had period periods note notes words word time times day days week weeks month months year years""".split())


# once a word-name is known to be a person in this text, only these make it a word again ("Grace period")
_LEARNED_PHRASE_FOLLOWERS = frozenset("period periods so not my words note notes".split())
_NEXT = re.compile(r"[ \t]+([\w'’-]+)")


class PersonFinder:
    """Names of people who are not in participants.csv.

    A capitalised word is a person's name when

    - it follows a relation or title ("my sister Chiara", "our neighbour, Dave", "Mr Okonjo",
      "someone called Ines"), whether or not it is in the first-name list;
    - it is in the first-name list and a capitalised word follows that is in the surname list or
      is not a common capitalised word ("Dave Smith", "Chiara Rossi": both words replaced);
    - it is in the first-name list and is not also an everyday word (Maisie, Alfie, Dave); a name
      that is also a word (Will, May, Grace, Hope, Mark, ...: ``name_words.txt``) needs the
      context above or a verb of speech after it ("Grace said").

    A name found this way is then replaced wherever else it appears capitalised in the same text.
    Names that are also words and were kept are reported as *flags* (suspicious, kept).
    """

    def __init__(self, skip=frozenset()):
        self.first = _name_list("first_names.txt")
        self.words = _name_list("name_words.txt")
        self.surnames = _name_list("surnames.txt")
        self.skip = frozenset(skip)  # casefolded participant name parts: handled by the participant matcher

    @staticmethod
    def _sentence_start(text: str, s: int, pos: int) -> bool:
        k = s - 1
        while k >= pos and text[k] in " \t":
            k -= 1
        return k < pos or text[k] in ".!?\n\"“”:;(…—–-[]"

    @staticmethod
    def _next_word(text: str, e: int, endpos: int):
        m = _NEXT.match(text, e, endpos)
        return (m.group(1), m.start(1), m.end(1)) if m else (None, e, e)

    def find(self, text: str, pos: int, endpos: int, flags: list | None = None) -> list:
        out, learned, words_seen = [], set(), []
        for m in _CAP.finditer(text, pos, endpos):
            s, e = m.start(), m.end()
            tok = m.group(0)
            base = re.split(r"['’]", tok)[0] if ("'" in tok or "’" in tok) else tok
            if base.casefold() in self.skip or base in _NOT_NAME:
                continue
            e_base = s + len(base)
            before = text[max(pos, s - 48):s]
            nxt, ns, ne = self._next_word(text, e, endpos)
            in_list = base in self.first
            is_word = base in self.words
            start = self._sentence_start(text, s, pos)
            surname_next = (nxt is not None and nxt[:1].isupper() and nxt not in _NOT_NAME and text[e:ns].strip() == ""
                            and nxt.casefold() not in self.skip
                            and (nxt.rstrip("'’s") in self.surnames
                                 or (in_list and not is_word and nxt not in self.first)))
            if _CONTEXT_BEFORE.search(before):
                out.append((s, e_base, "person", "[PERSON]"))
                learned.add(base)
                if surname_next:
                    end = ns + len(nxt.rstrip("'’s")) if nxt.endswith(("'s", "’s")) else ne
                    out.append((ns, end, "person", "[PERSON]"))
                    learned.add(nxt.rstrip("'’s") if nxt.endswith(("'s", "’s")) else nxt)
            elif in_list and surname_next and (not is_word or nxt in self.surnames):
                end2 = ns + len(nxt) - 2 if nxt.endswith(("'s", "’s")) else ne
                out.append((s, end2, "person", "[PERSON]"))
                learned.add(base)
                learned.add(text[ns:end2])
            elif in_list and not is_word:
                out.append((s, e_base, "person", "[PERSON]"))
                learned.add(base)
            elif in_list and is_word and nxt is not None and nxt.lower() in _SPEECH and text[e:ns].strip() == "":
                out.append((s, e_base, "person", "[PERSON]"))
                learned.add(base)
            elif in_list and is_word:
                words_seen.append((s, e_base, base, start))
            elif not in_list and not start and surname_next and nxt.rstrip("'’s") in self.surnames:
                end2 = ns + len(nxt) - 2 if nxt.endswith(("'s", "’s")) else ne
                out.append((s, end2, "person", "[PERSON]"))
                learned.add(base)
                learned.add(text[ns:end2])
        if learned:
            found = {(a, b) for a, b, _, _ in out}
            words = "|".join(re.escape(w) for w in sorted(learned, key=len, reverse=True))
            rx = re.compile(r"(?<![\w'’@#.-])(?:" + words + r")(?![\w@-])")
            for m in rx.finditer(text, pos, endpos):
                if (m.start(), m.end()) in found:
                    continue
                nxt, _, _ = self._next_word(text, m.end(), endpos)
                if m.group(0) in self.words and nxt and nxt.lower() in _LEARNED_PHRASE_FOLLOWERS:
                    continue
                out.append((m.start(), m.end(), "person", "[PERSON]"))
        if flags is not None:
            covered = [(a, b) for a, b, _, _ in out]
            for s, e, base, start in words_seen:
                if not start and not any(a <= s < b for a, b in covered):
                    flags.append((s, e, "person", "a first name that is also an everyday word; kept (no context "
                                  "such as 'my sister' or a surname says it is a person)"))
        return out
