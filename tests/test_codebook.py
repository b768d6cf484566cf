"""Codebook: YAML, REFI-QDA (.qdc) and CSV round trips, validation errors with their places."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from journeylab.errors import JourneylabError
from journeylab.study.codebook import Code, Codebook, Rules

STAGES = {"purchase": ["cart", "shipping_form", "payment"], "retention": ["delivery", "returns"]}


def write(tmp_path, text, name="codebook.yml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


SMALL = """\
name: Tiny
version: "2"
codes:
  - name: checkout_friction
    kind: pain_point
    stage: purchase
    definition: Any obstacle at checkout.
    colour: "#d55e00"
  - name: forced_account
    parent: checkout_friction
    kind: pain_point
    stage: purchase
    touchpoint: cart
    definition: Made to create an account.
    include: Log-in walls, guest checkout wishes.
    exclude: Password resets.
    examples: ["I had to make an account", "why can't I just check out as a guest"]
    rules:
      phrases: [create an account, guest checkout]
      near: [[sign, up, 2]]
      regex: ['log ?in']
      exclude: [logged in already]
      negation: true
      speaker_roles: [participant, interviewer]
  - name: password_rules
    parent: forced_account
    definition: "Password rules: too strict & confusing <really>"
  - name: slow_delivery
    stage: retention
    touchpoint: delivery
    codable: false
    rules:
      keywords: [late, slow]
"""


@pytest.fixture
def small(tmp_path):
    return Codebook.from_yaml(write(tmp_path, SMALL), stages=STAGES)


# ----------------------------------------------------------------------------- reading


def test_reads_every_field(small):
    c = small["forced_account"]
    assert small.name == "Tiny" and small.version == "2" and len(small) == 4
    assert (c.parent, c.kind, c.stage, c.touchpoint) == ("checkout_friction", "pain_point", "purchase", "cart")
    assert c.examples == ["I had to make an account", "why can't I just check out as a guest"]
    assert c.rules.phrases == ["create an account", "guest checkout"]
    assert c.rules.near == [("sign", "up", 2)]
    assert c.rules.negation is True and c.rules.roles == ("participant", "interviewer")
    assert small["slow_delivery"].rules.roles == ("participant",)  # the default
    assert small["slow_delivery"].codable is False


def test_hierarchy(small):
    assert small.children(None) == ["checkout_friction", "slow_delivery"]
    assert small.ancestors("password_rules") == ["forced_account", "checkout_friction"]
    assert small.descendants("checkout_friction") == ["forced_account", "password_rules"]
    assert small.path("password_rules") == "checkout_friction/forced_account/password_rules"
    assert small.depth("password_rules") == 2
    assert small.walk() == ["checkout_friction", "forced_account", "password_rules", "slow_delivery"]


def test_sample_codebook_loads_with_study_stages(sample_path):
    study = yaml.safe_load((sample_path / "study.yml").read_text())
    stages = {s["name"]: s["touchpoints"] for s in study["stages"]}
    cb = Codebook.from_yaml(sample_path / "codebook.yml", stages=stages)
    assert "shipping_form_tedious" in cb
    assert cb.children("checkout_friction") == ["shipping_form_tedious", "shipping_cost_surprise",
                                                "forced_account", "promo_code_confusion"]
    assert cb["slow_delivery"].rules.negation


# ----------------------------------------------------------------------------- validation errors


@pytest.mark.parametrize("body, expected", [
    ("  - name: a\n  - name: b\n  - name: a\n", r"codebook.yml, line 5, code 'a': duplicate code name"),
    ("  - name: a\n  - name: b\n    parent: zz\n", r"line 5, code 'b': parent 'zz' is not a code"),
    ("  - name: a\n    parent: b\n  - name: b\n    parent: a\n", r"line 4, code 'a': the hierarchy has a cycle: a → b → a"),
    ("  - name: a\n    parent: a\n", r"cycle: a → a"),
    ("  - name: a\n    stage: checkout\n", r"line 4, code 'a': stage 'checkout' is not a stage of study.yml \(purchase, retention\)"),
    ("  - name: a\n    stage: purchase\n    touchpoint: delivery\n",
     r"line 5, code 'a': touchpoint 'delivery' is not a touchpoint of stage 'purchase' \(cart, shipping_form, payment\)"),
    ("  - name: a\n    color: red\n", r"line 4, code 'a': unknown key 'color' \(did you mean `colour`\?\)"),
    ("  - name: a\n    rules:\n      keyword: [x]\n", r"line 5, code 'a': unknown rule key 'keyword'"),
    ("  - name: a\n    rules:\n      regex: ['(unclosed']\n", r"line 5, code 'a': rules.regex item 1 '\(unclosed' is not a valid"),
    ("  - name: a\n    rules:\n      near: [[x, y]]\n", r"line 5, code 'a': rules.near item 1 must be \[word, word, window\]"),
    ("  - name: a\n    colour: '#12345'\n", r"code 'a': colour '#12345' is not a colour"),
    ("  - kind: need\n", r"line 3: code 1 has no `name`"),
    ("  - name: a\n    rules:\n      speaker_roles: [customer]\n", r"unknown role 'customer'"),
])
def test_validation_errors_name_file_line_and_code(tmp_path, body, expected):
    p = write(tmp_path, "name: t\ncodes:\n" + body)
    with pytest.raises(JourneylabError, match=expected):
        Codebook.from_yaml(p, stages=STAGES)


def test_stage_not_checked_without_stages(tmp_path):
    p = write(tmp_path, "name: t\ncodes:\n  - name: a\n    stage: anything\n")
    assert Codebook.from_yaml(p)["a"].stage == "anything"


def test_invalid_yaml_reports_line(tmp_path):
    p = write(tmp_path, "name: t\ncodes:\n  - name: a\n   bad: [\n")
    with pytest.raises(JourneylabError, match=r"codebook.yml, line \d+, column \d+: not valid YAML"):
        Codebook.from_yaml(p)


def test_constructor_validates():
    with pytest.raises(JourneylabError, match="duplicate code name"):
        Codebook([Code("a"), Code("a")])
    with pytest.raises(JourneylabError, match="has no code 'nope'"):
        Codebook([Code("a")])["nope"]


# ----------------------------------------------------------------------------- YAML round trip


def test_yaml_round_trip_is_lossless(small, tmp_path):
    out = tmp_path / "out.yml"
    small.to_yaml(out)
    again = Codebook.from_yaml(out, stages=STAGES)
    assert again == small
    assert again.to_yaml() == small.to_yaml()  # stable text on re-save


def test_sample_yaml_round_trip(sample_path, tmp_path):
    cb = Codebook.from_yaml(sample_path / "codebook.yml")
    cb.to_yaml(tmp_path / "c.yml")
    assert Codebook.from_yaml(tmp_path / "c.yml") == cb


# ----------------------------------------------------------------------------- frame and display


def test_to_frame(small):
    df = small.to_frame()
    assert list(df.columns) == ["code", "parent", "path", "depth", "kind", "stage", "touchpoint", "definition",
                                "include", "exclude", "examples", "colour", "codable", "n_rules", "guid"]
    row = df.set_index("code").loc["forced_account"]
    assert row["path"] == "checkout_friction/forced_account" and row["depth"] == 1
    assert row["n_rules"] == 4  # 2 phrases + 1 regex + 1 near pair
    assert row["examples"] == "I had to make an account | why can't I just check out as a guest"


def test_repr_and_html_escape(small):
    assert repr(small) == "Codebook('Tiny', 4 codes, 2 top-level, 6 rules, version '2')"
    h = small._repr_html_()
    assert "&lt;really&gt;" in h and "&amp;" in h and "<really>" not in h
    assert h.index("forced_account") < h.index("password_rules") < h.index("slow_delivery")


# ----------------------------------------------------------------------------- REFI-QDA


def test_qdc_validates_against_schema(small, tmp_path, shared_dir):
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(shared_dir / "refi-qda" / "Codebook.xsd")))
    small.to_qdc(tmp_path / "c.qdc")
    schema.assertValid(etree.parse(str(tmp_path / "c.qdc")))


def test_sample_qdc_validates(sample_path, tmp_path, shared_dir):
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(shared_dir / "refi-qda" / "Codebook.xsd")))
    Codebook.from_yaml(sample_path / "codebook.yml").to_qdc(tmp_path / "s.qdc")
    schema.assertValid(etree.parse(str(tmp_path / "s.qdc")))


def test_qdc_guids_stable_and_deterministic(small, tmp_path):
    a, b = small.to_qdc(), small.to_qdc(tmp_path / "x.qdc")
    assert a == b
    import uuid

    ns = uuid.UUID("6f1c4b1e-8d5a-5b47-9b0e-6a6f75726e65")
    assert small.guid("forced_account") == str(uuid.uuid5(ns, "Tiny/forced_account"))
    # moving a code in the hierarchy keeps its GUID
    moved = small.with_codes([Code(**{**vars(c), "parent": None}) if c.name == "password_rules" else c
                              for c in small])
    assert moved.guid("password_rules") == small.guid("password_rules")


def test_qdc_round_trip_keeps_hierarchy_descriptions_and_sets(small, tmp_path):
    small.to_qdc(tmp_path / "c.qdc")
    back = Codebook.from_qdc(tmp_path / "c.qdc", name="Tiny")
    assert back.names == small.names
    for c in small:
        b = back[c.name]
        assert (b.parent, b.definition, b.include, b.exclude, b.examples, b.colour, b.codable) == \
               (c.parent, c.definition, c.include, c.exclude, c.examples, c.colour, c.codable)
        assert (b.stage, b.touchpoint, b.kind) == (c.stage, c.touchpoint, c.kind)  # via code sets
        assert b.guid == small.guid(c.name)
        assert b.rules == Rules()  # rules are journeylab's own, not exchanged
    # saving the imported codebook again gives the same file
    assert back.to_qdc() == small.to_qdc()


FOREIGN_QDC = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="ATLAS.ti 9">
  <Codes>
    <Code guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="Emotions" isCodable="false" color="#FF0000">
      <Code guid="AAAAAAAA-0000-0000-0000-000000000002" name="Joy – été 😀" isCodable="true">
        <Description>Plain description with no sections.</Description>
      </Code>
    </Code>
  </Codes>
  <Sets>
    <Set guid="BBBBBBBB-0000-0000-0000-000000000001" name="Theme A">
      <Description>a set from another tool</Description>
      <MemberCode guid="AAAAAAAA-0000-0000-0000-000000000002"/>
    </Set>
  </Sets>
</CodeBook>
"""


def test_qdc_import_keeps_foreign_guids_and_sets(tmp_path, shared_dir):
    from lxml import etree

    p = tmp_path / "foreign.qdc"
    p.write_text(FOREIGN_QDC, encoding="utf-8")
    cb = Codebook.from_qdc(p)
    assert cb.name == "foreign"
    joy = cb["Joy – été 😀"]
    assert joy.parent == "Emotions" and joy.definition == "Plain description with no sections."
    assert cb["Emotions"].codable is False and cb["Emotions"].colour == "#FF0000"
    assert cb.guid("Emotions") == "AAAAAAAA-0000-0000-0000-000000000001"  # braces stripped, digits kept
    assert cb.sets == [{"name": "Theme A", "guid": "BBBBBBBB-0000-0000-0000-000000000001",
                        "description": "a set from another tool", "members": ["Joy – été 😀"]}]
    # through YAML and back out: GUIDs and the foreign set survive
    cb.to_yaml(tmp_path / "c.yml")
    again = Codebook.from_yaml(tmp_path / "c.yml")
    assert again == cb
    again.to_qdc(tmp_path / "again.qdc")
    etree.XMLSchema(etree.parse(str(shared_dir / "refi-qda" / "Codebook.xsd"))).assertValid(
        etree.parse(str(tmp_path / "again.qdc")))
    assert Codebook.from_qdc(tmp_path / "again.qdc", name="foreign") == cb


def test_qdc_errors(tmp_path):
    p = tmp_path / "bad.qdc"
    p.write_text("<Project/>", encoding="utf-8")
    with pytest.raises(JourneylabError, match="bad.qdc: expected a <CodeBook> root"):
        Codebook.from_qdc(p)
    p.write_text("<CodeBook", encoding="utf-8")
    with pytest.raises(JourneylabError, match="cannot read the REFI-QDA codebook"):
        Codebook.from_qdc(p)


# ----------------------------------------------------------------------------- CSV (Taguette)


def test_csv_export(small):
    text = small.to_csv()
    lines = text.splitlines()
    assert lines[0] == "path,description"
    assert lines[1] == "checkout_friction,Any obstacle at checkout."
    assert 'checkout_friction.forced_account.password_rules,Password rules: too strict & confusing <really>' in lines


def test_csv_round_trip(small, tmp_path):
    small.to_csv(tmp_path / "c.csv")
    back = Codebook.from_csv(tmp_path / "c.csv")
    assert back.names == small.walk()
    for c in small:
        b = back[c.name]
        assert (b.parent, b.definition, b.include, b.exclude, b.examples) == \
               (c.parent, c.definition, c.include, c.exclude, c.examples)


def test_csv_taguette_tag_column_and_implicit_parents(tmp_path):
    # Taguette's own export: tag, description, number of highlights (taguette/export.py codebook_csv)
    p = tmp_path / "taguette.csv"
    p.write_text("tag,description,number of highlights\n"
                 "interesting,Worth a second look,3\n"
                 "feelings.joy,Happy,1\n", encoding="utf-8")
    cb = Codebook.from_csv(p)
    assert cb.names == ["interesting", "feelings", "joy"]
    assert cb["joy"].parent == "feelings" and cb["feelings"].definition == ""
    p.write_text("name,parent,description\nroot,,\nchild,root,d\n", encoding="utf-8")
    assert Codebook.from_csv(p, sep=None)["child"].parent == "root"


def test_csv_errors(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("code,description\na,b\n", encoding="utf-8")
    with pytest.raises(JourneylabError, match="line 1: expected exactly one of the columns name, path, tag"):
        Codebook.from_csv(p)
    p.write_text("name\na\na\n", encoding="utf-8")
    with pytest.raises(JourneylabError, match="c.csv, line 3: code 'a' appears twice"):
        Codebook.from_csv(p)


def test_errors_carry_their_place(tmp_path):
    from journeylab.study.codebook import CodebookError

    p = write(tmp_path, "name: t\ncodes:\n  - name: a\n  - name: b\n    parent: zz\n")
    with pytest.raises(CodebookError) as info:
        Codebook.from_yaml(p)
    err = info.value
    assert (err.line, err.code, err.file) == (5, "b", str(p))
    assert err.problem == "code 'b': parent 'zz' is not a code in this codebook"
