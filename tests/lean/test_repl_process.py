"""LeanRepl driving real processes over real pipes.

The doubled boundary is always the REPL process itself: `tests/support/replay_repl.py` plays the
real REPL's recorded bytes back, `tests/support/repl_faults.py` misbehaves on purpose. Everything
on our side (process spawning, pipes, pexpect, process groups, rlimits, psutil) is real.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from theoremllama.errors import UserError
from theoremllama.lean.protocol import (CommandResponse, ErrorResponse, ProofStepResponse, parse_reply,
                                        split_replies, split_requests)
from theoremllama.lean.repl import LeanRepl, ReplDied, ReplError, ReplGarbage, ReplStartError, ReplTimeout

SUPPORT = Path(__file__).resolve().parents[1] / "support"
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "repl_transcripts"
PAIRS = sorted(p for p in TRANSCRIPTS.glob("*.in") if p.with_suffix(".expected.out").exists())


def replay(path: Path) -> LeanRepl:
    return LeanRepl([sys.executable, str(SUPPORT / "replay_repl.py"), str(path)], start_timeout=10, name=path.stem)


def faulty(mode: str, *args: str, **kwargs) -> LeanRepl:
    kwargs.setdefault("start_timeout", 10)
    return LeanRepl([sys.executable, str(SUPPORT / "repl_faults.py"), mode, *args], name=mode, **kwargs)


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for init (a killed grandchild is init's to reap)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, within: float = 2.0) -> bool:
    end = time.monotonic() + within
    while not gone(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_replays_every_transcript_byte_for_byte(path):
    """Double: the REPL process (replay of the real REPL's recorded output). Each recorded request
    goes through our encoder and pipes; the reply must type exactly as the recorded one parses."""
    requests = split_requests(path.read_text(encoding="utf-8"))
    recorded = split_replies(path.with_suffix(".expected.out").read_text(encoding="utf-8"))
    with replay(path) as repl:
        for number, (request, expected) in enumerate(zip(requests, recorded), start=1):
            reply = repl.send(request, timeout=10)
            assert reply == parse_reply(expected), f"request {number}: {request}"
            assert reply.to_dict() == expected
            assert repl.uses == number
        assert repl.alive and repl.starts == 1


def test_transcripts_recorded_without_replies_are_answered_with_errors():
    """Double: the REPL process (replay of `pickle_scoped_notation`, recorded without replies: its
    pickle file comes from a run we do not have). The requests still match; replies are errors."""
    path = TRANSCRIPTS / "pickle_scoped_notation.in"
    assert not path.with_suffix(".expected.out").exists()
    with replay(path) as repl:
        for request in split_requests(path.read_text(encoding="utf-8")):
            reply = repl.send(request, timeout=10)
            assert isinstance(reply, ErrorResponse) and "no recorded reply" in reply.message


def test_command_and_tactic_helpers_speak_the_recorded_protocol():
    """Double: the REPL process (replay of `readme` and `all_tactics`); the helpers must build the
    very requests the real REPL was sent, or the replay answers with a mismatch error."""
    with replay(TRANSCRIPTS / "readme.in") as repl:
        first = repl.command("def f (x : Unit) : Nat := by sorry", timeout=10)
        assert isinstance(first, CommandResponse) and first.has_sorry
        step = repl.tactic("apply Int.natAbs", first.sorries[0].proof_state, timeout=10)
        assert isinstance(step, ProofStepResponse) and step.goals == ["x : Unit\n⊢ Int"]
        done = repl.tactic("exact -37", step.proof_state, timeout=10)
        assert done.proof_status == "Completed"
    with replay(TRANSCRIPTS / "all_tactics.in") as repl:
        reply = repl.command("def f : Nat := by have t := 37; exact t", timeout=10, all_tactics=True)
        assert [t.tactic for t in reply.tactics] == ["have t := 37", "exact t"]


def test_replay_double_reports_a_request_that_differs():
    """Double: the REPL process (replay). Guards the replay test itself: a wrong request is noticed."""
    with replay(TRANSCRIPTS / "tactic_sorry.in") as repl:
        reply = repl.command("def f : Nat := by rfl", timeout=10)
        assert isinstance(reply, ErrorResponse) and "differs" in reply.message


def test_a_wrong_kind_of_reply_is_out_of_sync(tmp_path):
    """Double: the REPL process (replay of a made-up transcript answering a command with a tactic
    reply). A reply of the wrong kind means the stream is out of step: the process is killed."""
    (tmp_path / "wrong.in").write_text('{"cmd": "def f := 1"}\n')
    (tmp_path / "wrong.expected.out").write_text('{"proofState": 0, "goals": []}\n\n')
    repl = replay(tmp_path / "wrong.in")
    repl.start()
    pid = repl.pid
    with pytest.raises(ReplGarbage, match="out of sync"):
        repl.command("def f := 1", timeout=10)
    assert not repl.alive and wait_gone(pid)


def test_timeout_kills_the_whole_process_group():
    """Double: a REPL process that never answers and has a child of its own (as `lake env` does)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        pid_file = Path(tmp) / "grandchild.pid"
        repl = faulty("hang", str(pid_file), start_timeout=0)
        start = time.monotonic()
        with pytest.raises(ReplTimeout) as info:
            repl.command("theorem slow : True := by decide", timeout=0.8)
        elapsed = time.monotonic() - start
        assert 0.8 <= elapsed < 0.8 + 1.0, elapsed  # slack for a loaded CI machine
        assert info.value.timeout == pytest.approx(0.8)
        assert not repl.alive and repl.pid is None
        grandchild = int(pid_file.read_text())
        assert wait_gone(grandchild), "the REPL's own child survived the timeout"
        # The next request starts a fresh process.
        with pytest.raises(ReplTimeout):
            repl.command("again", timeout=0.3)
        assert repl.starts == 2
        repl.kill()
        repl.kill()  # idempotent


def test_start_timeout_is_added_to_the_first_request_only():
    """Double: a REPL process that never answers."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        repl = faulty("hang", str(Path(tmp) / "pid"), start_timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ReplTimeout) as info:
            repl.command("x", timeout=0.2)
        assert time.monotonic() - start >= 0.7 and info.value.timeout == pytest.approx(0.7)


def test_exit_mid_reply_is_a_death_with_what_was_said():
    """Double: a REPL process that writes half a reply and exits with status 3."""
    repl = faulty("die_mid_reply")
    with pytest.raises(ReplDied) as info:
        repl.command("def f := 1", timeout=5)
    died = info.value
    assert died.exit_status == 3 and died.signal is None and not died.out_of_memory
    assert '{"env":' in died.output_tail
    assert not repl.alive


def test_garbage_kills_the_process():
    """Double: a REPL process that answers with text that is not JSON."""
    repl = faulty("garbage")
    repl.start()
    pid = repl.pid
    with pytest.raises(ReplGarbage) as info:
        repl.command("def f := 1", timeout=5)
    assert "not JSON" in info.value.text and not repl.alive and wait_gone(pid)


def test_a_second_unsolicited_reply_is_caught_before_the_next_request():
    """Double: a REPL process that answers every request twice."""
    repl = faulty("double_reply")
    first = repl.command("one", timeout=5)
    assert first.messages[0].data == "one"
    time.sleep(0.2)  # let the duplicate arrive
    with pytest.raises(ReplGarbage, match="unsolicited"):
        repl.command("two", timeout=5)


def test_stderr_never_mixes_with_replies_and_is_reported_on_death():
    """Double: a REPL process that writes JSON-looking noise to stderr, then dies with a note there."""
    repl = faulty("stderr_noise")
    assert repl.command("one", timeout=5).messages[0].data == "one"
    with pytest.raises(ReplDied) as info:
        repl.command("two", timeout=5)
    assert info.value.exit_status == 4
    assert "INTERNAL PANIC: something broke" in info.value.stderr_tail
    assert "something broke" in str(info.value)


def test_memory_cap_is_applied_and_reported():
    """Double: a REPL process that reports its RLIMIT_AS, and one that allocates past the cap."""
    cap = 1 << 30
    with faulty("rlimit", mem_limit_bytes=cap) as repl:
        assert repl.send({"cmd": "x"}, timeout=10).raw["rlimitAs"] == cap
    with faulty("rlimit") as repl:
        assert repl.send({"cmd": "x"}, timeout=10).raw["rlimitAs"] != cap
    repl = faulty("alloc", str(2 * cap), mem_limit_bytes=cap)
    with pytest.raises(ReplDied) as info:
        repl.command("x", timeout=10)
    assert info.value.out_of_memory and info.value.exit_status == 1
    assert "MemoryError" in info.value.stderr_tail


def test_a_process_killed_by_someone_else_counts_as_out_of_memory():
    """Double: a REPL process (echo) SIGKILLed from outside, as the kernel's OOM killer would."""
    repl = faulty("echo")
    repl.command("warm up", timeout=5)
    victim = psutil.Process(repl.pid)
    victim.kill()
    while victim.status() != psutil.STATUS_ZOMBIE:  # dead, not yet reaped by us
        time.sleep(0.01)
    with pytest.raises(ReplDied) as info:
        repl.command("x", timeout=5)
    assert info.value.signal == 9 and info.value.out_of_memory
    assert repl.command("after", timeout=5).messages[0].data == "after"  # restarted
    assert repl.starts == 2
    repl.close()


def test_a_2mb_reply_and_a_1mb_request_arrive_intact():
    """Double: REPL processes that answer with a 2 MB message / echo a 1 MB request."""
    size = 2_000_000
    with faulty("big", str(size)) as repl:
        reply = repl.command("x", timeout=20)
        data = reply.messages[0].data
        unit = "∀ x : ℕ, x = x\n"
        assert len(data) == size and data == (unit * (size // len(unit) + 1))[:size]
    code = "theorem big : True := by\n" + "  -- ∀ padding\n" * 70_000 + "  trivial"
    with faulty("echo") as repl:
        assert repl.command(code, timeout=20).messages[0].data == code


def test_bad_commands_are_user_errors():
    """No double: the command does not exist."""
    with pytest.raises(ReplStartError) as info:
        LeanRepl("/nonexistent/lean-repl --flag").start()
    assert isinstance(info.value, UserError) and not isinstance(info.value, ReplError)
    with pytest.raises(ReplStartError):
        LeanRepl(["no-such-repl-binary-xyz"], mem_limit_bytes=1 << 30).start()
    with pytest.raises(UserError):
        LeanRepl("   ")


def test_close_is_polite_then_firm_and_rss_is_measured():
    """Double: REPL processes that exit on end of input (echo) / ignore it (ignore_eof)."""
    repl = faulty("echo")
    repl.command("x", timeout=5)
    assert repl.rss_bytes() > 1_000_000
    proc = psutil.Process(repl.pid)
    start = time.monotonic()
    repl.close()
    assert time.monotonic() - start < 1.5 and not proc.is_running()  # grace is 2 s: it left on EOF
    assert repl.rss_bytes() == 0 and not repl.alive
    stubborn = faulty("ignore_eof")
    stubborn.command("x", timeout=5)
    pid = stubborn.pid
    stubborn.close(grace=0.2)
    assert wait_gone(pid)


def test_requests_that_cannot_be_encoded_leave_the_process_alone():
    """Double: a REPL process (echo)."""
    with faulty("echo") as repl:
        repl.command("x", timeout=5)
        for bad in ({"cmd": float("nan")}, {"cmd": "lone \ud800 surrogate"}, ["cmd"]):
            with pytest.raises(ValueError):
                repl.send(bad, timeout=5)
        for bad_timeout in (0, -1, float("inf"), float("nan")):
            with pytest.raises(ValueError):
                repl.send({"cmd": "x"}, timeout=bad_timeout)
        assert repl.alive and repl.command("y", timeout=5).env == 1


def test_round_trip_overhead(capsys):
    """Double: a REPL process (echo). Measures our per-request cost against a bare round trip over
    the same kind of pipes to the same double; reported, loosely bounded (the CI machine is shared)."""
    n = 2000
    with faulty("echo") as repl:
        repl.command("warm up", timeout=5)
        ours = []
        for _ in range(n):
            t0 = time.perf_counter()
            repl.command("def f := 1", timeout=5)
            ours.append(time.perf_counter() - t0)
    bare = _bare_round_trips(n)
    median_ours, median_bare = statistics.median(ours) * 1e6, statistics.median(bare) * 1e6
    with capsys.disabled():
        print(f"\nLeanRepl round trip: median {median_ours:.0f} µs, bare pipes {median_bare:.0f} µs, "
              f"overhead {median_ours - median_bare:.0f} µs over {n} requests")
    assert median_ours - median_bare < 2000


def _bare_round_trips(n: int) -> list[float]:
    import os
    proc = subprocess.Popen([sys.executable, str(SUPPORT / "repl_faults.py"), "echo"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = proc.stdout.fileno()
    request = b'{"cmd": "def f := 1"}\n\n'
    times = []
    try:
        for _ in range(n + 1):
            t0 = time.perf_counter()
            proc.stdin.write(request)
            proc.stdin.flush()
            data = b""
            while not data.endswith(b"\n\n"):
                data += os.read(out, 1 << 16)
            times.append(time.perf_counter() - t0)
    finally:
        proc.stdin.close()
        proc.wait(5)
    return times[1:]


def test_a_request_the_repl_does_not_read_times_out():
    """Double: a REPL process that never reads stdin; a 3 MB request overfills the pipe, and the
    write must give up at the deadline instead of blocking forever."""
    repl = faulty("deaf", start_timeout=0)
    start = time.monotonic()
    with pytest.raises(ReplTimeout):
        repl.command("x" * 3_000_000, timeout=0.5)
    assert time.monotonic() - start < 0.5 + 1.0 and not repl.alive


def test_a_blank_line_inside_an_unfinished_reply_does_not_end_it():
    """Double: a REPL process whose reply holds a blank line between JSON tokens."""
    with faulty("blank_inside") as repl:
        assert repl.command("x", timeout=5).env == 0
        assert repl.command("y", timeout=5).env == 1


def test_an_interrupted_request_kills_the_process():
    """Double: a REPL process that never answers; a real SIGALRM handler raises mid-wait, as
    Ctrl-C would. The late reply must never be taken for the next request's, so it is killed."""
    import signal
    import tempfile

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    with tempfile.TemporaryDirectory() as tmp:
        repl = faulty("hang", str(Path(tmp) / "pid"))
        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(KeyboardInterrupt):
                repl.command("x", timeout=10)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        assert not repl.alive and repl.pid is None


def test_a_repl_that_dies_at_once_says_it_never_answered():
    """Double: a 'REPL' that exits immediately with an error, like `lake env` outside a project."""
    repl = LeanRepl([sys.executable, "-c", "import sys; sys.exit('error: no lakefile found')"])
    with pytest.raises(ReplDied) as info:
        repl.command("x", timeout=5)
    assert info.value.answered == 0 and info.value.exit_status == 1
    assert "no lakefile found" in str(info.value)


REAL_REPL = os.environ.get("THEOREMLLAMA_REPL_CMD")


@pytest.mark.lean
@pytest.mark.skipif(not REAL_REPL, reason="needs a real Lean REPL: set THEOREMLLAMA_REPL_CMD "
                                          "(and THEOREMLLAMA_REPL_CWD for `lake env`)")
@pytest.mark.parametrize("name", ["readme", "proof_step", "unknown_environment", "unknown_proof_state",
                                  "line_breaks", "invalid_line_break", "have_by_sorry", "trace_simp"])
def test_a_real_repl_answers_like_the_recording(name):
    """No double: a real REPL. Lean versions word messages differently, so the comparison is of
    kinds of reply, env / proof-state numbering, sorries and error counts, not of texts."""
    path = TRANSCRIPTS / f"{name}.in"
    requests = split_requests(path.read_text(encoding="utf-8"))
    recorded = [parse_reply(r) for r in split_replies(path.with_suffix(".expected.out").read_text(encoding="utf-8"))]
    with LeanRepl(REAL_REPL, cwd=os.environ.get("THEOREMLLAMA_REPL_CWD"), start_timeout=300, name=name) as repl:
        for request, expected in zip(requests, recorded):
            reply = repl.send(request, timeout=120)
            assert type(reply) is type(expected), (request, reply)
            if isinstance(reply, CommandResponse):
                assert reply.env == expected.env
            if isinstance(reply, ProofStepResponse):
                assert reply.proof_state == expected.proof_state and len(reply.goals) == len(expected.goals)
            if not isinstance(reply, ErrorResponse):
                assert reply.has_sorry == expected.has_sorry and len(reply.errors) == len(expected.errors)


def test_rss_counts_the_descendants_and_stays_cheap(tmp_path):
    """Double: a REPL process with a child of its own (`hang` mode, as under `lake env`). Its
    resident memory includes the child's; repeated calls (one per proof) do not rescan /proc."""
    pid_file = tmp_path / "child.pid"
    repl = faulty("hang", str(pid_file))
    repl.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # the child interpreter is up
    child = psutil.Process(int(pid_file.read_text()))
    own = psutil.Process(repl.pid).memory_info().rss
    try:
        assert repl.rss_bytes() >= own + child.memory_info().rss * 0.9
        start = time.perf_counter()
        for _ in range(200):
            repl.rss_bytes()
        assert (time.perf_counter() - start) / 200 < 1e-3  # a /proc scan costs several ms
    finally:
        repl.kill()
    assert repl.rss_bytes() == 0
