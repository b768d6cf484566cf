"""Write the small REFI-QDA fixtures of tests/test_qdpx.py (see NOTES.md).

Run from the repository root: ``python tests/data/qdpx/make_fixtures.py`` (standard library only).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The source text as another tool would embed it: UTF-8 with a byte-order mark, Windows line ends.
TEXT = ("Interviewer: Ça va? Tell me about the delivery.\r\n"
        "P01: Très bien — the sofa came on time 😀 and the 東京 store called me.\r\n"
        "\r\n"
        "Interviewer: And the returns?\r\n"
        "P01: Returns were a pain; I waited 3 weeks for €120.\r\n")

# (phrase, occurrence) of each selection; positions are computed below
SELECTIONS = {
    "S1": "Très bien — the sofa came on time 😀",        # inside a turn, after an accent and a dash
    "S2": "東京 store called me.",                         # after the emoji (a UTF-16 count would be off by one)
    "S3": "on time 😀 and the 東京 store called me.\r\n\r\nInterviewer: And the returns?",  # two turns
    "S4": "Returns were a pain; I waited 3 weeks for €120.",
    "S5": "Interviewer:",                                  # a speaker label only: overlaps no segment
    "S6": "Ça va?",                                        # a quotation without a code
}

GUID = {
    "user1": "7A1F2C3D-0000-4000-8000-000000000001", "user2": "{7A1F2C3D-0000-4000-8000-000000000002}",
    "code_root": "5215CC69-B628-4E02-AFB9-9BEEAEE55808", "code_delay": "D7AA29DA-519B-4946-9B90-253B6DB8FD0A",
    "code_joy": "0DCEF2F5-E55C-49DA-8C33-9B0803C7AEB4", "code_refund": "12365523-1035-4AFA-9E7B-281FE0BC51C5",
    "source": "0616FDDD-8DD6-42A0-B5B0-AB7C89729219", "file": "11E0D4D7-4DE8-4501-A82F-653D3E5D1C15",
    "pic": "02255470-09E6-400B-9E20-97D71FBEC65D", "note": "CE15250D-46AD-42C2-B90F-A509B8D64EC8",
    "case": "C6FF6C4B-80EB-4473-A361-88DAF9845D4F",
    "v_age": "A0000000-0000-4000-8000-000000000001", "v_score": "A0000000-0000-4000-8000-000000000002",
    "v_vip": "A0000000-0000-4000-8000-000000000003", "v_first": "A0000000-0000-4000-8000-000000000004",
    "v_seen": "A0000000-0000-4000-8000-000000000005", "v_city": "A0000000-0000-4000-8000-000000000006",
}


def positions(text: str, phrase: str, crlf: str) -> tuple[int, int]:
    """Start/end (end exclusive) counting code points; crlf="one" counts a \\r\\n pair as one."""
    i = text.index(phrase)
    if crlf == "one":
        return len(text[:i].replace("\r\n", "\n")), len(text[: i + len(phrase)].replace("\r\n", "\n"))
    return i, i + len(phrase)


def project(crlf: str) -> str:
    sel = {k: positions(TEXT, v, crlf) for k, v in SELECTIONS.items()}
    g = GUID

    def coding(n, code, user, extra=""):
        return (f'<Coding guid="B0000000-0000-4000-8000-00000000000{n}" creatingUser="{user}" '
                f'creationDateTime="2023-08-16T15:5{n}:00Z"><CodeRef targetGUID="{code}"/>{extra}</Coding>')

    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="atlas-style fixture" origin="hand-written fixture (ATLAS.ti conventions)">
  <Users>
    <User guid="{g['user1']}" name="Enric"/>
    <User guid="{g['user2']}" name="Zoë"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="{{{g['code_root']}}}" name="Delivery" isCodable="false" color="#F00082">
      <Description>Anything about delivery</Description>
      <Code guid="{g['code_delay']}" name="on time" isCodable="true" color="#46AA00"/>
    </Code>
    <Code guid="{g['code_joy']}" name="joy 😀" isCodable="true"/>
    <Code guid="{g['code_refund']}" name="refund pain" isCodable="true"><Description>Returns &amp; refunds</Description></Code>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="{g['v_age']}" name="age" typeOfVariable="Integer"/>
    <Variable guid="{g['v_score']}" name="score" typeOfVariable="Float"/>
    <Variable guid="{g['v_vip']}" name="vip" typeOfVariable="Boolean"/>
    <Variable guid="{g['v_first']}" name="first_order" typeOfVariable="Date"/>
    <Variable guid="{g['v_seen']}" name="interviewed_at" typeOfVariable="DateTime"/>
    <Variable guid="{g['v_city']}" name="city" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="{g['case']}" name="Case P01">
      <VariableValue><VariableRef targetGUID="{g['v_age']}"/><IntegerValue>34</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{g['v_score']}"/><FloatValue>7.5</FloatValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{g['v_vip']}"/><BooleanValue>true</BooleanValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{g['v_first']}"/><DateValue>2026-02-01</DateValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{g['v_seen']}"/><DateTimeValue>2026-08-11T10:00:00Z</DateTimeValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{g['v_city']}"/><TextValue>Zürich</TextValue></VariableValue>
      <SourceRef targetGUID="{g['source']}"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{g['source']}" name="Interview P01.docx" plainTextPath="internal://{g['file']}.txt" creatingUser="{g['user1']}">
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000001" name="S1" startPosition="{sel['S1'][0]}" endPosition="{sel['S1'][1]}" creatingUser="{g['user1']}">
        {coding(1, g['code_delay'], g['user1'], f'<NoteRef targetGUID="{g["note"]}"/>')}
        {coding(2, g['code_joy'], g['user2'])}
      </PlainTextSelection>
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000002" name="S2" startPosition="{sel['S2'][0]}" endPosition="{sel['S2'][1]}" creatingUser="{g['user2']}">
        <Description>store phoned — nice touch</Description>
        {coding(3, g['code_joy'], g['user2'])}
      </PlainTextSelection>
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000003" name="S3" startPosition="{sel['S3'][0]}" endPosition="{sel['S3'][1]}" creatingUser="{g['user1']}">
        {coding(4, g['code_delay'], g['user1'])}
      </PlainTextSelection>
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000004" name="S4" startPosition="{sel['S4'][0]}" endPosition="{sel['S4'][1]}" creatingUser="{g['user1']}">
        {coding(5, g['code_refund'], g['user1'])}
        {coding(6, g['code_refund'], g['user2'])}
      </PlainTextSelection>
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000005" name="S5" startPosition="{sel['S5'][0]}" endPosition="{sel['S5'][1]}" creatingUser="{g['user1']}">
        {coding(7, g['code_joy'], g['user1'])}
      </PlainTextSelection>
      <PlainTextSelection guid="C0000000-0000-4000-8000-000000000006" name="S6" startPosition="{sel['S6'][0]}" endPosition="{sel['S6'][1]}" creatingUser="{g['user1']}"/>
    </TextSource>
    <PictureSource guid="{g['pic']}" name="parcel.jpg" path="internal://{g['pic']}.jpg">
      <PictureSelection guid="C0000000-0000-4000-8000-000000000009" firstX="1" firstY="2" secondX="30" secondY="40">
        {coding(8, g['code_delay'], g['user1'])}
      </PictureSelection>
    </PictureSource>
  </Sources>
  <Notes>
    <Note guid="{g['note']}" name="memo" creatingUser="{g['user1']}"><PlainTextContent>Arrived early, très content.</PlainTextContent></Note>
  </Notes>
  <Links><Link guid="D0000000-0000-4000-8000-000000000001" name="rel" originGUID="{g['note']}" targetGUID="{g['source']}"/></Links>
  <Sets><Set guid="E0000000-0000-4000-8000-000000000001" name="Interviews"><MemberSource targetGUID="{g['source']}"/></Set></Sets>
</Project>
"""


def write(name: str, crlf: str, folder: str) -> None:
    with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, data in ((f"project.qde", project(crlf).encode("utf-8")),
                            (f"{folder}/{GUID['file']}.txt", b"\xef\xbb\xbf" + TEXT.encode("utf-8"))):
            info = zipfile.ZipInfo(entry, date_time=(2023, 8, 16, 11, 51, 4))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


if __name__ == "__main__":
    write("crlf_one.qdpx", "one", "Sources")   # ATLAS.ti: \r\n counts as one character; folder as in the spec's example
    write("crlf_two.qdpx", "two", "sources")   # a tool counting every code point (\r\n = two)
    print("wrote", HERE / "crlf_one.qdpx", HERE / "crlf_two.qdpx")
