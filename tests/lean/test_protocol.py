"""The REPL wire protocol against the real REPL's recorded sessions.

No test double here: the transcripts under tests/fixtures/repl_transcripts (Lean v4.33.0-rc2) and
tests/fixtures/repl_transcripts_v4.24.0 (the pinned version, with its Mathlib sessions) are the real
REPL's requests and replies, and every function tested is pure. Both sets are replayed the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theoremllama.lean.protocol import (SORRY_WARNINGS, CommandResponse, ErrorResponse, Message, PickleResponse,
                                        Pos, ProofStepResponse, ProtocolError, Sorry, encode_request, parse_reply,
                                        split_replies, split_requests)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRANSCRIPTS = FIXTURES / "repl_transcripts"
TRANSCRIPTS_V4_24 = FIXTURES / "repl_transcripts_v4.24.0"
ALL_IN = sorted(TRANSCRIPTS.glob("*.in")) + sorted(TRANSCRIPTS_V4_24.glob("**/*.in"))
PAIRS = [p for p in ALL_IN if p.with_suffix(".expected.out").exists()]
UNPAIRED = [p for p in ALL_IN if not p.with_suffix(".expected.out").exists()]


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES).with_suffix(""))


def load(path: Path) -> tuple[list[dict], list[dict]]:
    requests = split_requests(path.read_text(encoding="utf-8"))
    replies = split_replies(path.with_suffix(".expected.out").read_text(encoding="utf-8"))
    return requests, replies


def expected_kind(request: dict) -> type:
    """What the REPL answers to each kind of request (REPL/Main.lean), apart from errors."""
    if "tactic" in request or "unpickleProofStateFrom" in request or (
            "pickleTo" in request and "proofState" in request):
        return ProofStepResponse
    return CommandResponse


def test_the_fixture_set_is_the_one_described():
    # Guards the parametrisations below against silently running on nothing.
    assert len([p for p in PAIRS if p.is_relative_to(TRANSCRIPTS)]) >= 50
    v4_24 = [p for p in PAIRS if p.is_relative_to(TRANSCRIPTS_V4_24)]
    assert len(v4_24) == 71 and len([p for p in v4_24 if p.parent.name == "Mathlib"]) == 16
    assert sum(len(load(p)[1]) for p in v4_24) == 216  # the replies the shared README counts
    assert sorted(_id(p) for p in UNPAIRED) == [
        "repl_transcripts/pickle_scoped_notation", "repl_transcripts/pickle_scoped_notation_2",
        "repl_transcripts_v4.24.0/Mathlib/H20231214", "repl_transcripts_v4.24.0/pickle_scoped_notation",
        "repl_transcripts_v4.24.0/pickle_scoped_notation_2"]


def test_the_pinned_version_writes_the_sorry_warning_with_quotes():
    """REPL v4.24.0 writes `declaration uses 'sorry'`; v4.33 `declaration uses `sorry``: the
    harness must recognise the pinned spelling (SORRY_WARNINGS) on every recorded warning."""
    warnings = {m["data"] for p in PAIRS if p.is_relative_to(TRANSCRIPTS_V4_24) for r in load(p)[1]
                for m in r.get("messages", []) if m["severity"] == "warning" and "sorry" in m["data"]}
    assert warnings == {"declaration uses 'sorry'"}
    assert all(parse_reply(r).has_sorry for p in PAIRS if p.is_relative_to(TRANSCRIPTS_V4_24)
               for r in load(p)[1] if "declaration uses 'sorry'" in json.dumps(r))


@pytest.mark.parametrize("path", PAIRS, ids=_id)
def test_every_recorded_reply_types_and_round_trips(path):
    requests, replies = load(path)
    assert len(requests) == len(replies) > 0
    for request, recorded in zip(requests, replies):
        reply = parse_reply(recorded)
        assert isinstance(reply, (expected_kind(request), ErrorResponse)), (request, recorded)
        assert reply.to_dict() == recorded
        assert reply.raw is recorded
        if isinstance(reply, ErrorResponse):
            assert reply.message == recorded["message"]
            continue
        # Field by field, so a failure names the part that is wrong.
        assert [m.to_dict() for m in reply.messages] == [
            {**m, "endPos": m.get("endPos")} for m in recorded.get("messages", [])]
        assert [s.to_dict() for s in reply.sorries] == recorded.get("sorries", [])
        for s, rec in zip(reply.sorries, recorded.get("sorries", [])):
            assert s.goal == rec["goal"] and s.proof_state == rec.get("proofState")
            assert (s.pos and s.pos.to_dict()) == rec.get("pos")
            assert (s.end_pos and s.end_pos.to_dict()) == rec.get("endPos")
        if isinstance(reply, CommandResponse):
            assert reply.env == recorded.get("env")
            assert [t.to_dict() for t in reply.tactics] == recorded.get("tactics", [])
            assert reply.infotree == recorded.get("infotree")
        else:
            assert reply.proof_state == recorded["proofState"]
            assert reply.goals == recorded["goals"]
            assert reply.proof_status == recorded.get("proofStatus")
            assert reply.traces == recorded.get("traces", [])


@pytest.mark.parametrize("path", ALL_IN, ids=_id)
def test_every_recorded_request_survives_our_encoding(path):
    """Also covers the two transcripts recorded without replies: their requests still parse."""
    for request in split_requests(path.read_text(encoding="utf-8")):
        line = encode_request(request)
        assert line.endswith("\n\n") and "\n" not in line[:-2]
        assert split_requests(line) == [request]


def test_the_repl_joins_request_lines_without_newlines():
    """`invalid_line_break`: a raw line break inside a JSON string disappears (the recorded error
    names `bysorry`), while an escaped one (`line_breaks`) is kept and moves `sorry` to line 2."""
    broken, replies = load(TRANSCRIPTS / "invalid_line_break.in")
    assert broken[0]["cmd"] == "theorem foo : 1 = 1 := bysorry"
    assert "bysorry" in parse_reply(replies[0]).errors[0].data
    escaped, replies = load(TRANSCRIPTS / "line_breaks.in")
    assert escaped[0]["cmd"] == "theorem foo : 1 = 1 := by\nsorry"
    assert parse_reply(replies[0]).errors[1].pos == Pos(2, 0)


def test_typed_fields_of_a_known_reply():
    requests, replies = load(TRANSCRIPTS / "readme.in")
    first, step, done = (parse_reply(r) for r in replies)
    assert first.env == 0 and first.has_sorry and first.errors == []
    assert first.sorries == [Sorry(pos=Pos(1, 29), end_pos=Pos(1, 34), goal="x : Unit\n⊢ Nat", proof_state=0)]
    assert first.messages[0].is_sorry_warning
    assert step.proof_state == 1 and step.goals == ["x : Unit\n⊢ Int"]
    assert step.proof_status == "Incomplete: open goals remain"
    assert done.goals == [] and done.proof_status == "Completed" and not done.has_sorry


def test_tactic_mode_sorries_have_no_position():
    _, replies = load(TRANSCRIPTS / "have_by_sorry.in")
    step = parse_reply(replies[2])
    assert isinstance(step, ProofStepResponse) and step.has_sorry
    assert step.sorries[0].pos is None and step.sorries[0].proof_state == 2


def test_pickling_replies_are_command_or_tactic_replies():
    requests, replies = load(TRANSCRIPTS / "pickle_proof_state_1.in")
    for request, recorded in zip(requests, replies):
        if "pickleTo" in request or "unpickleProofStateFrom" in request:
            assert isinstance(parse_reply(recorded), PickleResponse)
    requests, replies = load(TRANSCRIPTS / "pickle_environment.in")
    assert isinstance(parse_reply(replies[1]), CommandResponse) and parse_reply(replies[1]).env == 0


def test_error_replies():
    _, replies = load(TRANSCRIPTS / "unknown_tactic.in")
    error = parse_reply(replies[1])
    assert isinstance(error, ErrorResponse) and error.message.startswith("Lean error:")
    assert parse_reply({"message": "Unknown environment."}) == ErrorResponse("Unknown environment.")


@pytest.mark.parametrize("warning", SORRY_WARNINGS)
def test_has_sorry_sees_either_spelling_of_the_warning(warning):
    reply = parse_reply({"env": 3, "messages": [
        {"severity": "warning", "pos": {"line": 1, "column": 8}, "endPos": None, "data": warning}]})
    assert reply.has_sorry and reply.sorries == [] and reply.errors == []
    clean = parse_reply({"env": 3, "messages": [
        {"severity": "info", "pos": {"line": 1, "column": 8}, "endPos": None, "data": warning}]})
    assert not clean.has_sorry  # an info message quoting the text is not the warning


def test_message_shape_and_null_end_pos():
    reply = parse_reply({"env": 0, "messages": [
        {"severity": "error", "pos": {"line": 2, "column": 4}, "endPos": None, "data": "boom"}]})
    message = reply.messages[0]
    assert message == Message("error", Pos(2, 4), None, "boom")
    assert message.to_dict() == {"severity": "error", "pos": {"line": 2, "column": 4}, "endPos": None,
                                 "data": "boom"}
    absent = parse_reply({"env": 0, "messages": [{"severity": "error", "pos": {"line": 2, "column": 4},
                                                  "data": "boom"}]})
    assert absent.messages[0].end_pos is None and reply.errors == [message]


def test_unknown_fields_are_kept():
    obj = {"env": 5, "time": 0.25, "messages": []}
    reply = parse_reply(obj)
    assert reply.env == 5 and reply.raw["time"] == 0.25
    assert reply.to_dict() == {"env": 5, "time": 0.25}  # empty lists left out, as the REPL does


@pytest.mark.parametrize("bad", [
    [1, 2],
    "env",
    {"env": "zero"},
    {"env": True},
    {"proofState": 1},
    {"goals": []},
    {"proofState": 1, "goals": "⊢ True"},
    {"env": 0, "messages": [{"severity": "error", "data": "no position"}]},
    {"env": 0, "messages": [{"severity": "fatal", "pos": {"line": 1, "column": 0}, "data": "x"}]},
    {"env": 0, "messages": [{"severity": "error", "pos": {"line": "1", "column": 0}, "data": "x"}]},
    {"env": 0, "sorries": [{"proofState": 0}]},
    {"env": 0, "messages": "none"},
    {"hello": "world"},
])
def test_untypable_shapes_raise_protocol_error(bad):
    with pytest.raises(ProtocolError) as info:
        parse_reply(bad)
    assert isinstance(info.value, ValueError)


def test_encode_request_is_one_line_with_escapes_and_unicode():
    code = 'theorem t (x : ℕ) : x = x := by\n  -- a "quoted" comment\r\n\trfl\u2028'
    line = encode_request({"cmd": code, "env": 1})
    assert line.endswith("\n\n") and line.count("\n") == 2 and "\r" not in line
    assert "ℕ" in line  # UTF-8, not \\u escapes
    assert json.loads(line) == {"cmd": code, "env": 1}


@pytest.mark.parametrize("bad", [["cmd"], "{}", None, {"cmd": float("nan")}, {"cmd": object()}])
def test_encode_request_rejects_what_the_repl_cannot_read(bad):
    with pytest.raises(ValueError):
        encode_request(bad)


def test_split_replies_handles_a_stream_and_rejects_garbage():
    stream = '{"env": 0}\n\n{"messages":\n [{"severity": "info",\n   "pos": {"line": 1, "column": 0},\n' \
             '   "endPos": null,\n   "data": "a\\n\\nb"}],\n "env": 1}\n\n'
    first, second = split_replies(stream)
    assert first == {"env": 0} and second["messages"][0]["data"] == "a\n\nb"
    assert split_replies("") == [] and split_replies("\n\n") == []
    with pytest.raises(ProtocolError, match="not JSON"):
        split_replies('{"env": 0}\n\nnot json\n\n')
    with pytest.raises(ProtocolError, match="JSON object"):
        split_replies('{"env": 0}\n\n[1, 2]\n\n')


def test_split_requests_follows_the_repl_reader():
    text = '# a comment the REPL skips\n\n{"cmd":\n  "a"}\n\n-- also skipped\n\n{"tactic": "rfl", "proofState": 0}'
    assert split_requests(text) == [{"cmd": "a"}, {"tactic": "rfl", "proofState": 0}]
    with pytest.raises(ProtocolError, match="line 1"):
        split_requests("not json\n\n")
