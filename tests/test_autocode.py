"""Rule semantics of autocode, each expectation worked out by hand from the documented rules."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.coding.rules import autocode, stem, tokenize
from journeylab.errors import JourneylabError
from journeylab.study.codebook import Code, Codebook, Rules


def seg(*texts, role="participant"):
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(texts))], "speaker_role": role,
                         "text": list(texts)})


def coded(segments, codebook, **kw):
    out = autocode(segments, codebook=codebook, **kw)
    return sorted(zip(out["segment_id"], out["code"]))


def book(**rules):
    return Codebook([Code("c", rules=Rules(**rules))])


# ----------------------------------------------------------------------------- tokens


def test_tokenize():
    assert tokenize("Didn't get a REFUND, ugh!") == ["didn't", "get", "a", "refund", "ugh"]
    # typographic apostrophe, leading quote, emoji and hyphen separate / normalise
    assert tokenize("It’s 'fine' 😀late e-mail café") == ["it's", "fine", "late", "e", "mail", "café"]


def test_stemming_matches_inflections():
    # Snowball English: refund/refunds/refunded/refunding all stem to "refund"
    assert {stem(w) for w in ["refund", "refunds", "refunded", "refunding"]} == {"refund"}
    s = seg("I asked for a refund", "Two refunds later", "They REFUNDED me", "refunding takes ages", "refuse")
    assert coded(s, book(keywords=["refund"])) == [("s0", "c"), ("s1", "c"), ("s2", "c"), ("s3", "c")]


def test_phrase_on_consecutive_stems():
    s = seg("I saw an ad on Instagram", "saw, an ad", "I saw ads everywhere", "saw a nice ad", "an ad I saw")
    # s0 exact; s1 punctuation ignored; s2 no "an"; s3 extra word; s4 wrong order
    assert coded(s, book(phrases=["saw an ad"])) == [("s0", "c"), ("s1", "c")]
    # "saw ads" matches "saw an ad"? no; but phrase "saw ads" matches "saw ad" via the stem of "ads"
    assert coded(seg("I saw ad after ad"), book(phrases=["saw ads"])) == [("s0", "c")]


def test_multiword_keyword_is_a_phrase():
    cb = book(keywords=["gave up"])
    assert coded(seg("I just gave up", "gave it up", "I give up"), cb) == [("s0", "c")]


@pytest.mark.parametrize("text, expected", [
    ("shipping was going to cost a lot", True),       # cost is 4 tokens after shipping
    ("the cost of the express shipping", True),       # either order: 4 apart
    ("shipping a b c d cost", True),                  # exactly 5 apart
    ("shipping a b c d e cost", False),               # 6 apart
    ("shipping only", False),
])
def test_near_window(text, expected):
    assert bool(coded(seg(text), book(near=[["shipping", "cost", 5]]))) is expected


def test_near_adjacent_and_multiword_terms():
    assert coded(seg("shipping cost"), book(near=[["shipping", "cost", 1]])) == [("s0", "c")]
    # a term of two words: the gap is counted from the end of the earlier term
    cb = book(near=[["address form", "reset", 2]])
    assert coded(seg("the address form just reset", "the address form did not really reset"), cb) == [("s0", "c")]


@pytest.mark.parametrize("text, expected", [
    ("It was slow", True),
    ("Delivery was not slow at all", False),          # "not" right before
    ("it wasn't really late", False),                 # n't two tokens before
    ("not very slow", False),
    ("No, it was late", True),                        # comma: clause boundary
    ("never fast, but slow", True),
    ("I don't think it was slow", True),              # negator 4 tokens before: outside the window
    ("It was slow, not fast", True),
    ("not slow but really late", True),               # late is in a new clause (but)
    ("It didnt arrive late", False),                  # apostrophe-less negator
    ("not slow. Late though", True),                  # second match is not negated
])
def test_negation(text, expected):
    cb = book(keywords=["slow", "late"], negation=True)
    assert bool(coded(seg(text), cb)) is expected


def test_negation_only_when_asked():
    assert coded(seg("not slow"), book(keywords=["slow"])) == [("s0", "c")]


def test_negation_applies_to_phrases_and_near():
    cb = book(phrases=["took ages"], near=[["delivery", "week", 3]], negation=True)
    s = seg("it never took ages", "it took ages", "no delivery this week", "delivery took a week")
    assert coded(s, cb) == [("s1", "c"), ("s3", "c")]


def test_exclusion_anywhere_in_segment():
    cb = book(keywords=["photo"], exclude=["no photo", "blurry"])
    s = seg("The photos were great", "There was no photo of the back", "nice photo but blurry", "no photos")
    # s3: "no photos" stems to "no photo": excluded too
    assert coded(s, cb) == [("s0", "c")]


def test_speaker_roles():
    s = pd.DataFrame({"segment_id": ["i", "p"], "speaker_role": ["interviewer", "participant"],
                      "text": ["Did you get a refund?", "I got a refund"]})
    assert coded(s, book(keywords=["refund"])) == [("p", "c")]  # default: participants only
    assert coded(s, book(keywords=["refund"], speaker_roles=["interviewer"])) == [("i", "c")]
    assert coded(s, book(keywords=["refund"], speaker_roles=["interviewer", "participant"])) == [("i", "c"), ("p", "c")]
    # no speaker_role column: every segment is a participant turn
    assert coded(s.drop(columns="speaker_role"), book(keywords=["refund"])) == [("i", "c"), ("p", "c")]


def test_regex_rules():
    cb = book(regex=[r"\border (number|no)\b", r"lk-\d{6}"])
    s = seg("My Order Number was wrong", "order LK-123456", "ordered nothing", "border no")
    assert coded(s, cb) == [("s0", "c"), ("s1", "c")]
    neg = book(regex=[r"\bslow(ly)?\b"], negation=True)
    assert coded(seg("it was not slowly", "it was slowly, not fast", "quite slow"), neg) == [("s1", "c"), ("s2", "c")]
    # a back-reference cannot join the combined alternation: each regex is tried alone
    assert coded(seg("very very slow", "very slow"), book(regex=[r"(\w+) \1"])) == [("s0", "c")]


def test_output_frame_and_rule_column():
    cb = Codebook([
        Code("returns", rules=Rules(keywords=["refund", "return"], phrases=["send it back"])),
        Code("grouping"),  # no rules: never applied
        Code("shipping_cost", rules=Rules(near=[["shipping", "cost", 5]])),
    ])
    s = seg("I had to send it back for a refund; shipping cost me", "nothing here", None)
    out = autocode(s, codebook=cb)
    assert list(out.columns) == ["segment_id", "code", "coder", "origin", "memo", "rule"]
    assert out["memo"].isna().all()
    assert out.drop(columns="memo").to_dict("records") == [
        {"segment_id": "s0", "code": "returns", "coder": "rules", "origin": "rule",
         "rule": "keyword:refund; phrase:send it back"},
        {"segment_id": "s0", "code": "shipping_cost", "coder": "rules", "origin": "rule",
         "rule": "near:shipping~cost/5"},
    ]
    assert autocode(s, codebook=cb, coder="bot")["coder"].unique().tolist() == ["bot"]


def test_codes_subset_and_errors():
    cb = Codebook([Code("a", rules=Rules(keywords=["x"])), Code("b", rules=Rules(keywords=["x"]))])
    assert coded(seg("x"), cb, codes=["b"]) == [("s0", "b")]
    with pytest.raises(JourneylabError, match="`codes` has 'zz'"):
        autocode(seg("x"), codebook=cb, codes=["zz"])
    with pytest.raises(JourneylabError, match="must be a journeylab Codebook"):
        autocode(seg("x"), codebook={"a": 1})
    with pytest.raises(JourneylabError, match="missing column\\(s\\) 'text'"):
        autocode(pd.DataFrame({"segment_id": ["a"]}), codebook=cb)
    with pytest.raises(JourneylabError, match="keyword '!!' has no word characters"):
        autocode(seg("x"), codebook=book(keywords=["!!"]))


def test_empty_input_and_non_codable():
    cb = Codebook([Code("g", codable=False, rules=Rules(keywords=["x"]))])
    assert autocode(seg("x"), codebook=cb).empty
    empty = autocode(seg().iloc[:0], codebook=book(keywords=["x"]))
    assert empty.empty and list(empty.columns) == ["segment_id", "code", "coder", "origin", "memo", "rule"]


def test_input_not_mutated_and_nul_characters():
    s = seg("refund\x00 refund", "a refund")
    before = s.copy()
    assert coded(s, book(keywords=["refund"])) == [("s0", "c"), ("s1", "c")]
    pd.testing.assert_frame_equal(s, before)


def test_sample_codebook_on_hand_written_turns(sample_path):
    cb = Codebook.from_yaml(sample_path / "codebook.yml")
    s = pd.DataFrame({"segment_id": list("abcde"),
                      "speaker_role": ["participant"] * 4 + ["interviewer"],
                      "text": ["The delivery was not slow at all, and the packaging was lovely",
                               "It made me type the whole address again in the shipping form",
                               "Honestly the delivery charge was a shock",
                               "The chatbot never replied",
                               "Was the delivery slow?"]})
    assert coded(s, cb) == [("a", "delighted"), ("a", "packaging_delight"), ("b", "shipping_form_tedious"),
                            ("c", "shipping_cost_surprise"), ("d", "support_hard_to_reach")]


# ----------------------------------------------------------------------------- against a naive reference

WORDS = ["not", "no", "slow", "late", "ship", "shipping", "cost", "costs", "but", "very", "it", "was", "send",
         "back", "refund", "refunded"]


def reference(text: str, rules: Rules) -> bool:
    """A direct, one-segment-at-a-time reading of the documented rules (independent tokenizer)."""
    items = re.findall(r"[a-z']+|[.,]", text.lower())
    words, clause, cl = [], [], 0
    for it in items:
        if it in ".,":
            cl += 1
            continue
        if it in ("but", "although", "though", "however", "yet", "whereas"):
            cl += 1
        words.append(it)
        clause.append(cl)
    stems = [stem(w) for w in words]

    def term(t):
        return [stem(w) for w in t.split()]

    def occurrences(t):
        return [i for i in range(len(stems)) if stems[i:i + len(t)] == t]

    def negated(p):
        for j in range(p - 1, max(p - 3, 0) - 1, -1):
            if clause[j] != clause[p]:
                return False
            if words[j] in ("not", "no", "never") or words[j].endswith("n't"):
                return True
        return False

    def ok(positions):
        return any(not (rules.negation and negated(p)) for p in positions)

    fired = any(ok(occurrences(term(k))) for k in rules.keywords + rules.phrases)
    for a, b, w in rules.near:
        ta, tb = term(a), term(b)
        starts = [min(i, j) for i in occurrences(ta) for j in occurrences(tb)
                  if (j >= i + len(ta) and 1 <= j - i - len(ta) + 1 <= w) or (i >= j + len(tb) and 1 <= i - j - len(tb) + 1 <= w)]
        fired |= ok(starts)
    if fired and any(occurrences(term(x)) for x in rules.exclude):
        return False
    return fired


sentences = st.lists(st.sampled_from(WORDS + [",", "."]), min_size=0, max_size=14).map(
    lambda ws: " ".join(ws).replace(" ,", ",").replace(" .", "."))


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(sentences, min_size=1, max_size=8), negation=st.booleans(),
       chunk=st.integers(min_value=1, max_value=5))
def test_matches_naive_reference(texts, negation, chunk):
    rules = Rules(keywords=["slow", "refund"], phrases=["send it back"], near=[["shipping", "cost", 2]],
                  exclude=["very late"], negation=negation)
    cb = Codebook([Code("c", rules=rules)])
    got = {sid for sid, _ in coded(seg(*texts), cb, chunk_size=chunk)}
    want = {f"s{i}" for i, t in enumerate(texts) if reference(t, rules)}
    assert got == want


def test_progress_bar_does_not_change_results(capsys):
    s = seg(*(["a refund"] * 30))
    assert coded(s, book(keywords=["refund"]), progress=True, chunk_size=7) == sorted((f"s{i}", "c") for i in range(30))
    assert jl.autocode is autocode
