"""The shortcuts that make redaction fast give exactly what the plain search gives (issue 17).

- ``pii._keyword_scan`` (a pattern tried only where one of its leading words occurs) against the
  pattern's own ``finditer``, on seeded random texts built from the pieces the patterns look for,
  with the characters ``re.IGNORECASE`` folds onto ASCII letters (ſ, K, İ, ı);
- ``pii._ASCII_FOLD`` lists every such character (found by trying every code point);
- the detector's memory of what it found in a text: the same text in two participants' documents
  still gets each participant's name placeholder, and its flags are reported for each.
"""
from __future__ import annotations

import random
import re
import sys

import pandas as pd
import pytest

from journeylab.study import pii
from journeylab.study.redact import _fold, _Names, make_detector, redact, redact_texts
from journeylab.study.transcripts import parse_transcript

PIECES = ["sort code 20-00-00", "Sort-Code: 40 47 84", "ſort code 12-34-56", "account no. 12345678", "a/c 87654321",
          "bank account 11223344", "acc #55667788", "order no. 88231-B", "ORDER #AB1234", "customer ID C9912",
          "reference REF-20391", "ticket 4417-77", "membership M123456", "rma R99812", "DOB 03/04/1987",
          "d.o.b. 1 May 1990", "date of birth: 12th March 1979", "born on 5 June 2001", "born in May 1985",
          "birthday is 2 Feb", "zip code 90210", "ZIP 10001-2345", "Kelvin", "İstanbul", "ıd", "prefer", "sorted",
          "accordingly", "do", "d.", "date", "born", "case", "the", "and", "12-34-56 12345678", ",", ".", "\n",
          "refund", "returned order 3341-X", "policy number PN-22331"]

CASES = [(pii._ORDER_CTX, pii._ORDER_WORDS), (pii._BANK_SORT, ("sort",)), (pii._BANK_ACC, ("bank", "acc", "a/c")),
         (pii._DOB, pii._DOB_WORDS), (pii._ZIP_CTX, ("zip",))]


def _texts(n: int, seed: int = 17):
    rng = random.Random(seed)
    for _ in range(n):
        words = [rng.choice(PIECES) for _ in range(rng.randint(1, 25))]
        if rng.random() < 0.5:
            words = [w.upper() if rng.random() < 0.2 else w for w in words]
        yield rng.choice([" ", "  ", "\t", ", "]).join(words)


@pytest.mark.parametrize("rx, words", CASES, ids=["order", "sort", "account", "dob", "zip"])
def test_keyword_scan_finds_what_finditer_finds(rx, words):
    n_found = 0
    for text in _texts(600):
        for pos, endpos in [(0, len(text)), (3, max(3, len(text) - 4))]:
            want = [(m.span(), m.groups()) for m in rx.finditer(text, pos, endpos)]
            got = [(m.span(), m.groups()) for m in pii._keyword_scan(rx, words, text, pos, endpos)]
            assert got == want, (text, pos, endpos)
            n_found += len(want)
    assert n_found > 100  # the texts hold what the pattern looks for


EMAIL_PIECES = ["maya@example.com", "a%40b.example.org", "x.y+z@dom.co.uk", "@maya_o", "foo@", "é@x.com",
                "-.-@a.io", "bob@@x.com", "hi", "mail:", "j.o'neil@mail.com", "(x@y.com)", "ann%40", "40", "%",
                "a@b", "q@b.c", "tom_@ex-ample.net", "\n", ".", "@", "e-mail me at ann@host.org."]
GATED = [("ip", pii.find_ip, ["10.0.0.1", "192.168.1.254", "1.2.3", "fe80::1ff:fe23:4567:890a", "::1", "a:b:c",
                              "2001:db8::ff00:42:8329", "v2.0", "3.14", "10:30", "[00:00:02]", "999.1.1.1"]),
         ("address", pii.find_address, ["SW1A 1AA", "sw1a1aa", "M2 5th", "GIR 0AA", "90210", "CA 94105", "12345-6789",
                                        "I live in Didcot", "we're in Little Whitley", "moved to Harrogate", "in London",
                                        "zip code 10001", "221B Baker Street", "Flat 3, 12 Mill Lane, Leeds LS1 4AB",
                                        "from the village of Ash", "at 10am", "2nd", "Road"]),
         ("email", pii.find_email, EMAIL_PIECES),
         ("card", pii.find_card, ["4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "1234 5678",
                                  "4111111111111111", "5555 5555 5555 4444 07700 900123", "12.34.56", "2026", "1/2"]),
         ("iban", pii.find_iban, ["GB82 WEST 1234 5698 7654 32", "gb82west12345698765432", "DE89370400440532013000",
                                  "AB12", "XX00 1234", "MP3"]),
         ("nino", pii.find_nino, ["QQ 12 34 56 C", "qq123456c", "AB123456D", "GB123456A", "12 34 56", "QQ1234 56C"])]


@pytest.mark.parametrize("kind, finder, pieces", GATED, ids=[g[0] for g in GATED])
def test_gated_finders_match_the_plain_patterns(kind, finder, pieces, monkeypatch):
    """With the hints and anchors switched off (every pattern run over the whole text) the same spans."""
    rng = random.Random(3)
    texts = [rng.choice([" ", ", ", "\t", ""]).join(rng.choice(pieces + ["the", "and", "x"])
                                                     for _ in range(rng.randint(1, 12))) for _ in range(800)]
    fast = [finder(t, p, max(p, len(t) - e)) for t in texts for p, e in [(0, 0), (2, 3)]]
    always = re.compile("")
    for name in ("_IPV4_HINT", "_IPV6_HINT", "_FIVE_HINT", "_POSTCODE_HINT", "_PLACE_HINT", "_CARD_HINT", "_IBAN_HINT",
                 "_NINO_HINT"):
        monkeypatch.setattr(pii, name, always)
    monkeypatch.setattr(pii, "_email_matches", lambda text, pos, endpos: pii._EMAIL.finditer(text, pos, endpos))
    plain = [finder(t, p, max(p, len(t) - e)) for t in texts for p, e in [(0, 0), (2, 3)]]
    assert fast == plain
    assert sum(map(len, plain)) > 150


def test_ascii_fold_lists_every_character_ignorecase_equates_with_an_ascii_letter():
    letter = re.compile("[a-z]", re.IGNORECASE)
    odd = {i for i in range(128, sys.maxunicode + 1) if letter.fullmatch(chr(i))}
    assert odd == set(pii._ASCII_FOLD)
    for i, ch in pii._ASCII_FOLD.items():
        assert re.fullmatch(ch, chr(i), re.IGNORECASE)


def test_lowered_keeps_positions_or_says_it_cannot():
    assert pii._lowered("ſort KODE İ") == "sort kode i"
    assert pii._lowered("ÅNGSTRÖM") == "ångström"


def test_same_text_in_two_documents_keeps_each_participant_placeholder_and_flags():
    people = pd.DataFrame({"participant_id": ["P01", "P02"], "name": ["Robin Hale", "Robin Hale"]})
    text = "Interviewer: Hello Robin.\nP01: Hi, ring me on 07700 900123. My friend Will came too.\n"
    doc = parse_transcript(text, doc_id="P01")
    # the same text twice (a copied transcript), the second document P02's
    twin = doc.segments.assign(doc_id="P02", segment_id=doc.segments["segment_id"].str.replace("P01", "P02"),
                               participant_id=doc.segments["participant_id"].str.replace("P01", "P02"))
    documents = pd.DataFrame({"doc_id": ["P01", "P02"], "text": [doc.text, doc.text], "participant_id": ["P01", "P02"]})
    segments = pd.concat([doc.segments, twin], ignore_index=True)
    det = make_detector(people)
    res = redact(segments, participants=people, documents=documents, detector=det)
    texts = res.documents["text"].tolist()
    assert "Hello [NAME:P01]" in texts[0] and "Hello [NAME:P02]" in texts[1]
    assert all("[PHONE]" in t for t in texts)
    # the same again with the detector's memory filled: the same result
    again = redact(segments, participants=people, documents=documents, detector=det)
    pd.testing.assert_frame_equal(again.documents, res.documents)
    pd.testing.assert_frame_equal(again.mapping, res.mapping)
    pd.testing.assert_frame_equal(again.flags, res.flags)


def test_repeated_comments_give_the_same_rows_as_distinct_searches():
    comments = ["Call me on 020 7946 0018", "Fine.", "my sister Chiara loved it", "Fine.", "Call me on 020 7946 0018"]
    shared = redact_texts(comments, keys=list("abcde"), detector=make_detector())
    one_by_one = [redact_texts([c], keys=[k]) for k, c in zip("abcde", comments)]
    assert shared.segments["text"].tolist() == [r.segments["text"][0] for r in one_by_one]
    pd.testing.assert_frame_equal(shared.mapping, pd.concat([r.mapping for r in one_by_one], ignore_index=True))


def test_name_matcher_finds_what_its_alternation_finds():
    """_Names.matches (only the words that start a name are tried) against the one-alternation pattern."""
    names = _Names([("Maya Okafor", "P01"), ("Jean-Luc Picard", "P02"), ("Ann Lee", "P03"), ("Lee Ann Smith", "P04"),
                    ("Zoë Ng", "P05"), ("Robin Hale", "P06")], aliases=[("Mo", "P01"), ("J.L.", "P02")])
    words = ["Maya", "maya", "Okafor", "Maya Okafor", "Jean-Luc", "Luc", "Picard", "Ann", "Lee", "Ann Lee", "Lee Ann",
             "Smith", "Zoe", "Zoë", "Ng", "NG", "Mo", "mo", "J.L.", "Robin", "Hale", "annlee", "Mayas", "said", "the",
             "_Ann", "Ann_", "x", "\n", ",", ".", "Straße", "Łukasz"]
    rng = random.Random(5)
    found = 0
    for _ in range(700):
        text = rng.choice([" ", "  ", ", ", "\n"]).join(rng.choice(words) for _ in range(rng.randint(1, 15)))
        folded = _fold(text)
        for pos, endpos in [(0, len(folded)), (1, max(1, len(folded) - 2))]:
            want = [m.span() for m in names.pattern.finditer(folded, pos, endpos)]
            assert [m.span() for m in names.matches(folded, pos, endpos)] == want, (text, pos, endpos)
            found += len(want)
    assert found > 500
