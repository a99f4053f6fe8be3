"""The pinned REPL version's recorded sessions (tests/fixtures/repl_transcripts_v4.24.0, Mathlib
sessions included) replayed through a real `LeanRepl` process, exactly as
test_repl_process.py replays the v4.33 set.

Double: the REPL process (tests/support/replay_repl.py plays the recorded replies byte for byte).
Everything else is real: our request encoding, the pipes, the reply framing and typing.
"""

import sys
from pathlib import Path

import pytest

from theoremllama.lean.protocol import parse_reply, split_replies, split_requests
from theoremllama.lean.repl import LeanRepl

SUPPORT = Path(__file__).resolve().parents[1] / "support"
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "repl_transcripts_v4.24.0"
PAIRS = sorted(p for p in TRANSCRIPTS.glob("**/*.in") if p.with_suffix(".expected.out").exists())


def test_the_recordings_are_there():
    assert len(PAIRS) == 71


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: str(p.relative_to(TRANSCRIPTS).with_suffix("")))
def test_replays_every_v4_24_transcript(path):
    requests = split_requests(path.read_text(encoding="utf-8"))
    recorded = split_replies(path.with_suffix(".expected.out").read_text(encoding="utf-8"))
    assert len(requests) == len(recorded) > 0
    with LeanRepl([sys.executable, str(SUPPORT / "replay_repl.py"), str(path)], start_timeout=10,
                  name=path.stem) as repl:
        for number, (request, expected) in enumerate(zip(requests, recorded), start=1):
            reply = repl.send(request, timeout=10)
            assert reply == parse_reply(expected), f"request {number}: {request}"
            assert reply.to_dict() == expected
        assert repl.alive and repl.starts == 1
