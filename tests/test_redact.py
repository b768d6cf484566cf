"""PII redaction with planted PII: every kind found, near-misses left alone, offsets consistent."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylab.errors import JourneylabError
from journeylab.study.redact import MAPPING_COLUMNS, redact, redact_text
from journeylab.study.transcripts import parse_transcript, read_document

DATA = Path(__file__).parent / "data" / "transcripts"

PEOPLE = pd.DataFrame({
    "participant_id": ["P01", "P11", "P02", "P05"],
    "name": ["Maya Okafor", "Lucía Fernández", "Bob Brown", "Anne-Marie O'Neil"],
    "persona": ["a", "b", "a", "b"],
})


def kinds_of(text, **kw):
    red, mapping = redact_text(text, **kw)
    return red, mapping["kind"].tolist()


# ----------------------------------------------------------------------------- each kind


@pytest.mark.parametrize("text, expected", [
    ("write to maya.okafor93@example.com please", "write to [EMAIL] please"),
    ("from greg.lindqvist@example.co.uk, sorry", "from [EMAIL], sorry"),
    ("my mobile is 07700 900123.", "my mobile is [PHONE]."),
    ("or 07700900123 squashed", "or [PHONE] squashed"),
    ("abroad: +44 7700 900456!", "abroad: [PHONE]!"),
    ("with the zero +44 (0)7700 900456", "with the zero [PHONE]"),
    ("the office (0113) 496 0000 mornings", "the office [PHONE] mornings"),
    ("London 020 7946 0018", "London [PHONE]"),
    ("in the US (415) 555-0132 or 212-555-0198", "in the US [PHONE] or [PHONE]"),
    # area code 555 does not exist: libphonenumber calls the number neither valid nor (in a GB study) dialled as one
    ("a film number 555-123-4567", "a film number 555-123-4567"),
    ("Paris +33 1 23 45 67 89.", "Paris [PHONE]."),
])
def test_emails_and_phones_are_replaced(text, expected):
    assert redact_text(text)[0] == expected


@pytest.mark.parametrize("text, expected", [
    # Visa, Mastercard and Amex test numbers: all pass the Luhn check
    ("it's 4111 1111 1111 1111, and then", "it's [CARD], and then"),
    ("4111-1111-1111-1111", "[CARD]"),
    ("4111111111111111 exp 12/27", "[CARD] exp 12/27"),
    ("5500 0000 0000 0004... wait", "[CARD]... wait"),
    ("Amex 3782 822463 10005.", "Amex [CARD]."),
])
def test_luhn_valid_cards_are_replaced(text, expected):
    assert redact_text(text)[0] == expected


@pytest.mark.parametrize("text, expected", [
    ("So it's 27 Alderney Road, Reading, RG2 7PL, twice", "So it's [ADDRESS], twice"),
    ('"Hollybank, 14 Kestrel Way, Harrogate HG2 7QJ". So', '"Hollybank, [ADDRESS]". So'),
    ("it's 8 Cotman Road, Norwich, NR1 4AG, I had to", "it's [ADDRESS], I had to"),
    ("which is Flat 3, 22 Alder Grove, Shrewsbury SY3 8NB, and", "which is [ADDRESS], and"),
    ("the house, 36 Alder Way, there it was", "the house, [ADDRESS], there it was"),
    ("at 10 Downing Street.", "at [ADDRESS]."),
    ("12 St Mary's Close", "[ADDRESS]"),
    ("my postcode LS6 2QT is new", "my postcode [ADDRESS] is new"),
])
def test_addresses_and_postcodes_are_replaced(text, expected):
    assert redact_text(text)[0] == expected


def test_order_numbers_default_and_custom_pattern():
    assert redact_text("order LK-517364, sent")[0] == "order [ORDER], sent"
    red, kinds = kinds_of("order #A-99812 and LK-517364", order_pattern=r"#A-\d{5}")
    assert red == "order [ORDER] and LK-517364" and kinds == ["order"]


def test_names_full_first_last_possessive_any_case_accents():
    text = ("Lucía Fernández said hi. lucia fernandez, LUCÍA, (Fernández's cat) and Lucia. "
            "Maya's sister; maya; Mayan art; Anne-Marie O'Neil, Anne-Marie and O'Neil; Marie.")
    red, m = redact_text(text, names=PEOPLE)
    assert red == ("[NAME:P11] said hi. [NAME:P11], [NAME:P11], ([NAME:P11]'s cat) and [NAME:P11]. "
                   "[NAME:P01]'s sister; [NAME:P01]; Mayan art; [NAME:P05], [NAME:P05] and [NAME:P05]; [NAME:P05].")
    assert set(m["kind"]) == {"name"}


def test_names_that_are_everyday_words_only_when_capitalised():
    # "brown" and "bob" are everyday words: lower-case, they are left alone (the documented trade-off)
    red, _ = redact_text("Bob Brown liked the brown sofa. Brown said so, and Bob let it bob.", names=PEOPLE)
    assert red == "[NAME:P02] liked the brown sofa. [NAME:P02] said so, and [NAME:P02] let it bob."


def test_names_as_list_or_dict():
    assert redact_text("Hi Maya Okafor", names=["Maya Okafor"])[0] == "Hi [NAME]"
    assert redact_text("Hi Maya", names={"Maya Okafor": "P01"})[0] == "Hi [NAME:P01]"
    # without names, Maya is still a first name (another person's): [PERSON]; with kinds it stays
    assert redact_text("Hi Maya", names=None)[0] == "Hi [PERSON]"
    assert redact_text("Hi Maya", names=None, kinds=["email", "phone"])[0] == "Hi Maya"


# ----------------------------------------------------------------------------- near misses


@pytest.mark.parametrize("text", [
    "It arrived on 2026-08-31 at 10:30.",
    "Delivery was 31/08/2026, or 31.08.2026.",
    "It cost £49.99, or £1,299.00 for the sofa, $25 in the US, €30.",
    "It takes 4 to 6 days, sometimes 3-5 working days.",
    "I have been a customer since 2019, in 1930s houses.",
    "The reference 4111 1111 1111 1112 is not Luhn-valid.",  # last digit changed from the Visa test number
    "1234 5678 9012 3456",  # Luhn-invalid 16 digits
    "Rated 4.5 out of 5 by 1,204 people, 100% cotton, 180x200 cm, version 2.10.3.",
    "Between 9:00 and 17:30, call 3 times, 12 items.",
    "I bought 2 Velvet Cushions and 3 lamps.",
    "See page 12 Terms and Conditions, section 4 Returns Policy.",
    "We live in a 1930s semi outside Harrogate.",
])
def test_near_misses_are_left_alone(text):
    red, mapping = redact_text(text)
    assert red == text, mapping
    assert len(mapping) == 0


def test_order_number_is_not_a_phone_when_orders_are_off():
    assert redact_text("order LK-517364 ok", kinds=["phone", "card", "email", "address"])[0] == "order LK-517364 ok"


def test_kinds_selects_what_is_replaced():
    text = "Maya, maya@example.com, 07700 900123"
    assert redact_text(text, names=PEOPLE, kinds=["email"])[0] == "Maya, [EMAIL], 07700 900123"
    with pytest.raises(JourneylabError, match=r"`kinds` must be .*found 'ssn'"):
        redact_text(text, kinds=["email", "ssn"])
    with pytest.raises(JourneylabError, match=r"`order_pattern` must be a regular expression"):
        redact_text(text, order_pattern="LK-(")


@pytest.mark.parametrize("text, expected", [
    # found by the property test below: neighbours must not swallow each other
    ("4111 1111 1111 1111 4111 1111 1111 1111 end", "[CARD] [CARD] end"),
    ("4111 1111 1111 1111 07700 900123 end", "[CARD] [PHONE] end"),
    ("on 2026-08-31 07700 900123 end", "on 2026-08-31 [PHONE] end"),
    ("at 10:30 4111 1111 1111 1111 end", "at 10:30 [CARD] end"),
    ("+44 7700 900456 27 Alderney Road, Reading, RG2 7PL end", "[PHONE] [ADDRESS] end"),
    ("07700 900123 07700 900123. 07700 900456", "[PHONE] [PHONE]. [PHONE]"),
])
def test_adjacent_pii_is_split_correctly(text, expected):
    assert redact_text(text)[0] == expected


def test_overlaps_resolved_longest_first():
    # the email contains the surname; the address contains a postcode: each is replaced once
    red, m = redact_text("tom.hendricks@example.com and 8 Cotman Road, Norwich, NR1 4AG",
                         names={"Tom Hendricks": "P04"})
    assert red == "[EMAIL] and [ADDRESS]"
    assert m["kind"].tolist() == ["email", "address"]


def test_redact_text_mapping_positions():
    text = "Mail maya@example.com or call 07700 900123, Maya."
    red, m = redact_text(text, names={"Maya Okafor": "P01"})
    assert list(m.columns) == MAPPING_COLUMNS
    # by hand: "Mail " = 5, the email is 16 characters; "[EMAIL]" is 7 so later positions shift by -9
    assert m[["original_start", "original_end", "start", "end"]].values.tolist() == [
        [5, 21, 5, 12], [30, 42, 21, 28], [44, 48, 30, 40]]
    for r in m.itertuples():
        assert red[r.start:r.end] == r.placeholder
    assert m["doc_id"].isna().all() and m["segment_id"].isna().all()


# ----------------------------------------------------------------------------- segments + documents

PLANTED = """\
[00:00:01] Interviewer: Hi Maya, thanks for joining.
[00:00:04] P01: Happy to. My email is maya.okafor93@example.com and my phone 07700 900123.
It went to 27 Alderney Road, Reading, RG2 7PL.
[00:00:20] Interviewer: And the order?
[00:00:24] P01: LK-517364. I paid with 4111 1111 1111 1111. Fernández was my neighbour, Lucía.
It cost £49.99 on 2026-08-31 at 10:30, 4 to 6 days.
"""


def docs_frame(*docs):
    return pd.DataFrame({"doc_id": [d.doc_id for d in docs], "path": [d.path for d in docs],
                         "format": [d.format for d in docs], "encoding": [d.encoding for d in docs],
                         "participant_id": [d.segments["participant_id"].dropna().iloc[0] for d in docs],
                         "text": [d.text for d in docs]})


def all_strings(df):
    return " ".join(str(v) for v in df.astype(str).to_numpy().ravel())


@pytest.mark.parametrize("split", [None, "sentence"])
def test_redact_with_documents_keeps_offsets_and_never_leaks(split):
    doc = parse_transcript(PLANTED, doc_id="P01", split=split)
    docs = docs_frame(doc)
    seg_before, docs_before = doc.segments.copy(), docs.copy()
    res = redact(doc.segments, participants=PEOPLE, documents=docs)
    pd.testing.assert_frame_equal(doc.segments, seg_before)  # inputs untouched
    pd.testing.assert_frame_equal(docs, docs_before)
    new_text = res.documents["text"].iloc[0]
    for r in res.segments.itertuples():
        assert new_text[r.start:r.end] == r.text
    for r in res.mapping.itertuples():
        assert new_text[r.start:r.end] == r.placeholder
        assert docs["text"].iloc[0][r.original_start:r.original_end] not in all_strings(res.mapping)
    assert list(res.documents.columns) == ["doc_id", "path", "format", "encoding", "participant_id", "text"]
    assert list(res.segments.columns) == list(doc.segments.columns)
    assert res.mapping["kind"].tolist() == ["name", "email", "phone", "address", "order", "card", "name", "name"]
    assert res.mapping["placeholder"].tolist()[-2:] == ["[NAME:P11]", "[NAME:P11]"]
    for pii in ["Maya", "maya.okafor93", "07700 900123", "Alderney", "RG2 7PL", "LK-517364", "4111", "Fernández",
                "Lucía"]:
        assert pii not in new_text and pii not in all_strings(res.segments) and pii not in all_strings(res.mapping)
    for kept in ["£49.99", "2026-08-31", "10:30", "4 to 6 days", "[00:00:24] P01:"]:
        assert kept in new_text
    assert res.segments["segment_id"].tolist() == doc.segments["segment_id"].tolist()
    assert set(res.mapping["segment_id"].dropna()) <= set(doc.segments["segment_id"])


def test_mapping_points_at_the_segment_holding_the_pii():
    doc = parse_transcript(PLANTED, doc_id="P01")
    res = redact(doc.segments, participants=PEOPLE, documents=docs_frame(doc))
    assert res.mapping["segment_id"].tolist() == ["P01-t001"] + ["P01-t002"] * 3 + ["P01-t004"] * 4
    assert (res.mapping["doc_id"] == "P01").all()
    assert res.segments["text"].iloc[1] == ("Happy to. My email is [EMAIL] and my phone [PHONE].\n"
                                            "It went to [ADDRESS].")


def test_names_in_vtt_speaker_labels_are_redacted_too():
    doc = read_document(DATA / "teams.vtt", interviewer_labels=["Anna Smith"], speaker_map={"Lucía Fernández": "P11"})
    res = redact(doc.segments, participants=PEOPLE, documents=docs_frame(doc))
    new_text = res.documents["text"].iloc[0]
    assert new_text.startswith("[00:00:02] [NAME:P11]: Vale, so I ordered the lamp")
    assert "Lucía" not in new_text and "Fernández" not in all_strings(res.segments)
    assert res.segments["speaker"].tolist() == ["[NAME:P11]", "Anna Smith", "[NAME:P11]"]
    label_rows = res.mapping[res.mapping["segment_id"].isna()]
    assert len(label_rows) == 2 and set(label_rows["kind"]) == {"name"}  # the two labels, outside any segment
    for r in res.segments.itertuples():
        assert new_text[r.start:r.end] == r.text


def test_every_good_fixture_round_trips_after_redaction():
    docs = [read_document(DATA / n) for n in ["plain.txt", "timestamped.txt", "zoom.vtt", "sample.srt", "cp1252.txt"]]
    seg = pd.concat([d.segments for d in docs], ignore_index=True)
    people = pd.DataFrame({"participant_id": ["P01", "P07"], "name": ["Maya Okafor", "Sofia Russo"]})
    res = redact(seg, participants=people, documents=docs_frame(*docs))
    texts = res.documents.set_index("doc_id")["text"]
    for r in res.segments.itertuples():
        assert texts[r.doc_id][r.start:r.end] == r.text
    assert "Maya" not in " ".join(texts)


def test_standalone_segments_shift_offsets_within_each_doc():
    doc = parse_transcript(PLANTED, doc_id="P01")
    res = redact(doc.segments, participants=PEOPLE)
    assert res.documents is None
    # rebuild the redacted document by hand from the original text and the mapping
    text, out, prev = doc.text, [], 0
    for r in res.mapping.sort_values("original_start").itertuples():
        out += [text[prev:r.original_start], r.placeholder]
        prev = r.original_end
    rebuilt = "".join(out) + text[prev:]
    for r in res.segments.itertuples():
        assert rebuilt[r.start:r.end] == r.text
    with_docs = redact(doc.segments, participants=PEOPLE, documents=docs_frame(doc))
    # the label "Hi Maya" is inside a turn in both modes: same segments either way
    pd.testing.assert_frame_equal(res.segments, with_docs.segments)


def test_segment_boundary_inside_a_replacement_moves_to_the_placeholder_edge():
    text = "P01: Call 07700 900123 now.\n"
    seg = pd.DataFrame({"segment_id": ["d-t001-s01", "d-t001-s02"], "doc_id": ["d", "d"], "turn": [1, 1],
                        "start": [5, 16], "end": [15, 27], "text": ["Call 07700", "900123 now."]})
    docs = pd.DataFrame({"doc_id": ["d"], "text": [text]})
    res = redact(seg, documents=docs)
    assert res.documents["text"][0] == "P01: Call [PHONE] now.\n"
    assert res.segments["text"].tolist() == ["Call [PHONE]", "[PHONE] now."]
    assert res.mapping["segment_id"].tolist() == ["d-t001-s01"]


def test_two_participants_sharing_a_first_name():
    people = pd.DataFrame({"participant_id": ["P04", "P09"], "name": ["Tom Hendricks", "Tom Baker"]})
    text = "Interviewer: Thanks Tom.\nP09: Cheers. Tom Hendricks is my cousin.\n"
    doc = parse_transcript(text, doc_id="P09")
    res = redact(doc.segments, participants=people, documents=docs_frame(doc))
    # in P09's interview "Tom" is P09; the full name is unambiguous
    assert res.documents["text"][0] == "Interviewer: Thanks [NAME:P09].\nP09: Cheers. [NAME:P04] is my cousin.\n"
    assert redact_text("Tom called", names=people)[0] == "[NAME] called"


def test_redact_checks_its_arguments():
    doc = parse_transcript(PLANTED, doc_id="P01")
    with pytest.raises(JourneylabError, match=r"redact\(\): argument `segments` is missing column\(s\) 'start'"):
        redact(doc.segments.drop(columns=["start"]))
    with pytest.raises(JourneylabError, match=r"`documents` lacks"):
        redact(doc.segments, documents=pd.DataFrame({"doc_id": ["P02"], "text": ["x"]}))
    with pytest.raises(JourneylabError, match=r"segment 'P01-t001' does not match its document"):
        redact(doc.segments, documents=pd.DataFrame({"doc_id": ["P01"], "text": [doc.text.upper()]}))
    with pytest.raises(JourneylabError, match=r"`participants` must be a pandas DataFrame"):
        redact(doc.segments, participants=["Maya"])


def test_nothing_to_redact_returns_equal_frames_and_empty_mapping():
    doc = read_document(DATA / "sample.srt")
    res = redact(doc.segments, documents=docs_frame(doc))
    pd.testing.assert_frame_equal(res.segments, doc.segments)
    assert len(res.mapping) == 0 and list(res.mapping.columns) == MAPPING_COLUMNS
    assert "nothing replaced" in repr(res)


# ----------------------------------------------------------------------------- property

_FILLER = st.sampled_from(["the form", "was long,", "£49.99", "on 2026-08-31", "at 10:30", "I think", "ok.",
                           "4 to 6 days", "in 2024", "Mayan"])
_PII = st.sampled_from([("email", "maya@example.com"), ("phone", "07700 900123"), ("card", "4111 1111 1111 1111"),
                        ("order", "LK-517364"), ("name", "Maya"), ("name", "Lucía Fernández"),
                        ("address", "27 Alderney Road, Reading, RG2 7PL"), ("phone", "+44 7700 900456")])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(_FILLER, max_size=3), st.one_of(st.none(), _PII)), min_size=1, max_size=8))
def test_property_planted_pii_is_found_exactly(parts):
    words, planted = [], []
    for filler, pii in parts:
        words += filler
        if pii is not None:
            words.append(pii[1])
            planted.append(pii)
    text = " ".join(words) + " end"
    red, m = redact_text(text, names=PEOPLE)
    assert m["kind"].tolist() == [k for k, _ in planted]
    for r, (_, value) in zip(m.itertuples(), planted):
        assert text[r.original_start:r.original_end] == value
        assert red[r.start:r.end] == r.placeholder
    for _, value in planted:
        assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", red)
    assert "£49.99" in red or "£49.99" not in text


def test_relation_then_full_stop_is_not_a_name_context():
    # "my friend." ends the sentence: the capitalised word after it starts a new one (it used to
    # become [PERSON], and then every "Did" of the interview with it)
    for text in ["I asked my friend. Did you go?", "I asked my friend.\nDid you go?"]:
        assert redact_text(text)[0] == text
    assert redact_text("I asked my friend, Dave, and he agreed.")[0] == "I asked my friend, [PERSON], and he agreed."


@pytest.mark.parametrize("with_non_ascii", [False, True])
def test_name_matcher_word_lookup_finds_what_the_alternation_finds(with_non_ascii):
    """_Names.matches (a lookup per word, linear whatever the number of names) gives exactly the
    matches of the one alternation of every form, on random texts of names, parts, hyphens,
    apostrophes, accents and other scripts, at random (pos, endpos)."""
    import random

    from journeylab.study.redact import _fold, _Names

    rng = random.Random(7 + with_non_ascii)
    first = ["Ana", "Anne-Marie", "Jo", "Mark", "Grace", "O'Neil", "Li", "Lin", "Lina", "K.", "Jean Luc"]
    last = ["Varga", "Lund", "Moreau", "de la Cruz", "Smith-Jones", "Ng", "Lee"]
    if with_non_ascii:
        first += ["Ómar", "Zoë", "Øyvind", "Straße", "ſam", "张伟", "Nguyễn"]
        last += ["Ó Briain", "Müller", "Østergaard"]
    names = _Names(tuple((f"{rng.choice(first)} {rng.choice(last)}", f"P{i}") for i in range(60)),
                   (("Jojo", "P1"), ("mr x", "P2")))
    words = [w for n in first + last for w in n.split()] + [
        "the", "and", "ANA", "anne", "marie", "LUND", "varga's", "Lina-Lund", "K", "O'neil", "x", "Zoe", "oyvind",
        "  ", "\n", "-", "."]
    for _ in range(1500):
        text = _fold(" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))))
        pos = rng.randint(0, len(text))
        end = rng.randint(pos, len(text))
        expected = [(m.start(), m.end()) for m in names.pattern.finditer(text, pos, end)]
        assert [(m.start(), m.end()) for m in names.matches(text, pos, end)] == expected, (text, pos, end)
    assert bool(names._rest) == with_non_ascii  # both paths of the lookup were taken
