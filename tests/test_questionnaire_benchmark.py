"""Questionnaire scales are graded against a stated benchmark: study.yml, else a published default (SUS 68)."""
import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError


def summary(mean, lo, hi, n=12, scale="sus"):
    return pd.DataFrame({"scale": [scale], "n": [n], "mean": [mean], "ci_low": [lo], "ci_high": [hi]})


@pytest.mark.parametrize("lo, hi, expected", [(48.0, 62.0, "problem"), (70.0, 80.0, "healthy"),
                                              (60.0, 75.0, "inconclusive"), (68.0, 75.0, "healthy")])
def test_sus_against_published_average(lo, hi, expected):
    out = jl.questionnaire_signals(summary((lo + hi) / 2, lo, hi))
    assert out["target"].iloc[0] == 68.0
    assert out["target_source"].iloc[0].startswith("published default")
    assert out["signal"].iloc[0] == expected


def test_study_target_wins_and_other_scales_have_none():
    s = pd.concat([summary(75, 70, 80), summary(5.5, 5.0, 6.0, scale="seq")], ignore_index=True)
    out = jl.questionnaire_signals(s, targets={"questionnaire": {"sus": 82}})
    assert out["signal"].tolist() == ["problem", "no benchmark"]
    assert out["target_source"].iloc[0] == "study.yml targets: questionnaire: sus"
    rules = jl.GradingRules(questionnaire_targets={})
    assert jl.questionnaire_signals(summary(75, 70, 80), rules=rules)["signal"].iloc[0] == "no benchmark"


def test_too_few_respondents_is_inconclusive():
    assert jl.questionnaire_signals(summary(40, 30, 50, n=3))["signal"].iloc[0] == "inconclusive"


def test_rules_describe_and_validate():
    text = " ".join(jl.GradingRules().describe({"questionnaire": {"pssuq_overall": 2.8}}))
    assert "sus 68 (published default)" in text and "pssuq_overall 2.8 (study.yml)" in text
    with pytest.raises(JourneylabError, match="questionnaire_targets"):
        jl.GradingRules(questionnaire_targets={"sus": "high"})
    assert jl.GradingRules.from_dict(jl.GradingRules().to_dict()) == jl.GradingRules()


def test_study_yml_targets_questionnaire(tmp_path):
    import shutil
    root = tmp_path / "u"
    shutil.copytree(jl.datasets.usability_study_path(), root)
    yml = root / "study.yml"
    yml.write_text(yml.read_text() + "targets:\n  questionnaire: {sus: 90}\n")
    study = jl.load_study(root)
    assert jl.study_targets(study)["questionnaire"] == {"sus": 90.0}
    from journeylab.map.decision import headline_metrics
    text = headline_metrics(study).set_index("metric").loc["questionnaire:sus", "text"]
    assert "study target 90: problem" in text
    yml.write_text(yml.read_text().replace("{sus: 90}", "{sus: high}"))
    with pytest.raises(JourneylabError, match=r"study.yml.*targets questionnaire 'sus'"):
        jl.load_study(root)
