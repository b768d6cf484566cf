"""jl.analysis_codings: one set of codings per run, chosen once per transcript (issue 19 item 8)."""
from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest
import yaml
from conftest import OTHER

import journeylab as jl
from journeylab.errors import JourneylabError


def _docs(codings, study):
    doc_of = dict(zip(study.segments["segment_id"].astype(str), study.segments["doc_id"]))
    return codings.assign(doc=codings["segment_id"].astype(str).map(doc_of)).groupby("source")["doc"].unique()


def test_default_order_people_where_they_coded_rules_elsewhere(sample_study):
    s = sample_study
    cod = jl.analysis_codings(s)
    rec = cod.attrs["journeylab"]["analysis_codings"]
    # the two coders coded P01, P05, P08 and P11 (docs/sample-study.md); the rules read all 14
    assert rec["documents"]["human"] == ["P01", "P05", "P08", "P11"]
    assert len(rec["documents"]["rules"]) == 10 and rec["documents"]["gold"] == []
    assert rec["coders"]["human"] == ["amara", "jonas"] and rec["n_participants"] == 14
    docs = _docs(cod, s)
    assert not set(docs["human"]) & set(docs["rules"])        # a transcript takes one source only
    # every human coding of the study is kept; the rules only where no person coded
    assert len(cod[cod["source"] == "human"]) == len(s.codings)
    assert rec["preference"] == ["gold", "human", "rules"] and not rec["declared"]
    assert "4 coded by people (amara, jonas), 10 by the codebook's rules" in rec["text"]
    assert "base of every share: 14 participants" in rec["text"]


def test_gold_outranks_the_coders_in_its_transcripts(sample_study):
    s = sample_study
    seg = s.segments.set_index("segment_id")
    amara_p01 = s.codings[(s.codings["coder"] == "amara") & (s.codings["segment_id"].map(seg["doc_id"]) == "P01")]
    gold = amara_p01.assign(coder="gold")
    study = dataclasses.replace(s, codings=pd.concat([s.codings, gold], ignore_index=True))
    cod = jl.analysis_codings(study)
    rec = cod.attrs["journeylab"]["analysis_codings"]
    assert rec["documents"]["gold"] == ["P01"]
    assert rec["documents"]["human"] == ["P05", "P08", "P11"]
    p01 = cod[cod["segment_id"].map(seg["doc_id"]) == "P01"]
    assert set(p01["coder"]) == {"gold"} and len(p01) == len(gold)   # jonas's P01 codings give way to gold
    assert "1 by coder gold" in rec["text"]


def test_prefer_and_study_yml(sample_study):
    s = sample_study
    only_people = jl.analysis_codings(s, prefer=["human"])
    rec = only_people.attrs["journeylab"]["analysis_codings"]
    assert rec["n_documents"] == 4 and rec["n_participants"] == 4 and set(only_people["source"]) == {"human"}
    declared = dataclasses.replace(s, config={**s.config, "analysis_codings": ["rules"]})
    rec = jl.analysis_codings(declared).attrs["journeylab"]["analysis_codings"]
    assert rec["declared"] and rec["n_documents"] == 14 and "(study.yml analysis_codings)" in rec["text"]
    with pytest.raises(JourneylabError, match="prefer"):
        jl.analysis_codings(s, prefer=[])


def test_the_evidence_table_and_the_map_record_the_choice(sample_study, tmp_path):
    s = sample_study
    cod = jl.analysis_codings(s)
    ev = jl.evidence_table(s, codings=cod, n_boot=200)
    assert ev.attrs["journeylab"]["codings"]["analysis"]["n_participants"] == 14
    # the same counts as prefer_human on the stacked codings (the choice notebooks 06-07 used to make)
    stacked = jl.evidence_table(s, codings=pd.concat([s.codings, jl.autocode(s.segments, codebook=s.codebook)]),
                                n_boot=200)
    cols = ["claim_id", "n_participants", "n_participants_total", "n_segments", "sentiment_mean"]
    pd.testing.assert_frame_equal(ev[cols], stacked[cols])
    html = jl.JourneyMap.build(s, ev).to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "id='analysis-codings'" in html and "4 coded by people (amara, jonas)" in html


def test_study_yml_key_is_checked(tmp_path):
    dst = tmp_path / "s"
    shutil.copytree(OTHER, dst)
    cfg = yaml.safe_load((dst / "study.yml").read_text(encoding="utf-8"))
    cfg["analysis_codings"] = ["gold", "human"]
    (dst / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    study = jl.load_study(dst)
    rec = jl.analysis_codings(study).attrs["journeylab"]["analysis_codings"]
    assert rec["preference"] == ["gold", "human"] and rec["declared"]
    cfg["analysis_codings"] = {"gold": 1}
    (dst / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    with pytest.raises(jl.StudyError, match=r"'analysis_codings:' must be a list such as \[gold, human, rules\]"):
        jl.load_study(dst)


def test_study_sentiment_is_notebook_04s_scores(sample_study):
    scores = jl.study_sentiment(sample_study)
    by_hand = jl.sentiment(sample_study.segments, split="sentence",
                           lexicon=jl.load_lexicon(jl.lexicon_file(sample_study)))
    pd.testing.assert_series_equal(scores["compound"], by_hand["compound"])
    assert scores.attrs["lexicon"] > 0


def test_a_transcript_the_rules_read_without_a_hit_is_in_the_base(sample_study):
    """The rules read every transcript nobody coded: one where no rule fires is a participant who
    did not raise anything, so it stays in the base of every share (not dropped, which would
    inflate every share)."""
    import dataclasses

    study = sample_study
    first = jl.analysis_codings(study)
    rec = first.attrs["journeylab"]["analysis_codings"]
    rule_docs = rec["documents"].get("rules", [])
    assert rule_docs, "the sample study has transcripts only the rules code"
    quiet_doc = rule_docs[0]
    seg = study.segments.copy()
    mask = (seg["doc_id"] == quiet_doc).to_numpy()
    seg.loc[mask, "text"] = "Mm."                      # nothing any rule can match
    quiet = dataclasses.replace(study, segments=seg)
    cod = jl.analysis_codings(quiet)
    got = cod.attrs["journeylab"]["analysis_codings"]
    pid = str(seg.loc[mask, "participant_id"].dropna().iloc[0])
    assert not cod["segment_id"].isin(seg.loc[mask, "segment_id"]).any()
    assert pid in got["participants"] and got["n_participants"] == rec["n_participants"]
    ev = jl.evidence_table(quiet, codings=cod, n_boot=100)
    claims = ev[ev["kind"].isin(["pain_point", "delight", "need"])]
    assert (claims["n_participants_total"] == rec["n_participants"]).all()
