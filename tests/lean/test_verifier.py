"""The Verifier pool end to end against the semantic REPL double (tests/support/fake_lean_repl.py).

Boundary doubled: the Lean REPL process only. Everything else is real: the Verifier's threads,
LeanRepl's process handling (process groups, kills, RLIMIT_AS wrapper), the real wire protocol,
header reuse, the policy and the verdict logic. The double's rules (which words make it err,
hang, crash, ...) are documented at the top of fake_lean_repl.py.
"""

import json
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from theoremllama.errors import UserError
from theoremllama.lean import Verifier, VerifyJob
from theoremllama.lean.verdict import Verdict
from theoremllama.lean.job import prepare_job

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")]
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"


def job(i, proof, header=HEADER, name=None) -> VerifyJob:
    name = name or f"p{i}"
    return VerifyJob(id=str(i), statement=f"theorem {name} (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                     proof=proof, header=header)


@pytest.fixture
def repl_log(tmp_path, monkeypatch):
    """Every request the doubles receive, as (pid, request); the doubles inherit this variable."""
    path = tmp_path / "requests.jsonl"
    monkeypatch.setenv("FAKE_LEAN_REPL_LOG", str(path))

    def read():
        if not path.exists():
            return []
        return [(d["pid"], d["request"]) for d in map(json.loads, path.read_text(encoding="utf-8").splitlines())]
    return read


def imports_seen(log) -> int:
    return sum(1 for _, request in log if "env" not in request)


def reasons(verdicts):
    return [v.reason for v in verdicts]


# ----------------------------------------------------------------------------- verdicts

def test_true_and_false_proofs_and_the_axiom_check():
    jobs = [job(0, "  subst h\n  norm_num"), job(1, "  double_error"), job(2, "  native_decide"),
            job(3, "  fail"), job(4, "  double_old_sorry"), job(5, "  simp [h]")]
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        out = v.verify_many(jobs)
    assert reasons(out) == ["ok", "error", "axiom", "error", "sorry", "ok"]
    assert [v.id for v in out] == [str(i) for i in range(6)]
    assert out[0].passed and out[0].axioms == ["propext", "Classical.choice", "Quot.sound"] and out[0].detail == ""
    assert "Lean.ofReduceBool" in out[2].axioms and "Lean.ofReduceBool" in out[2].detail
    assert "unsolved goals" in out[1].detail
    # the older spelling of the sorry warning, with no `sorries` entry, is still a sorry
    assert out[4].messages[0]["data"] == "declaration uses 'sorry'"
    assert all(v.seconds > 0 for v in out) and all(isinstance(v, Verdict) for v in out)


def test_forbidden_constructs_never_reach_the_repl(repl_log):
    cheats = ["  sorry", "  exact sorry", "  admit", "  norm_num\n#exit", "  norm_num\naxiom cheat : False",
              "  set_option debug.skipKernelTC true in\n  norm_num", "  norm_num\n@[implemented_by id] def f : ℕ := 0",
              "  norm_num\n@[extern \"c\"] def g : ℕ := 0", "  norm_num\nunsafe def u : ℕ := 0",
              "  norm_num\nrun_cmd pure ()", "  norm_num\n#eval 1", "  norm_num\nelab \"e\" : tactic => pure ()",
              "  norm_num\nmacro \"m\" : tactic => `(tactic| rfl)",
              "  norm_num\ntheorem p_extra : 1 = 1 := rfl",
              "  double_error\nnamespace X\ntheorem p0 (x : ℕ) (h : x = 2) : x + x = 4 := by norm_num"]
    harmless = ["  -- sorry, admit, #exit, axiom: words in a comment\n  norm_num",
                "  /- run_cmd, @[extern], set_option debug.skipKernelTC -/ norm_num",
                "  have : \"sorry #eval\".length = 11 := by decide\n  norm_num"]
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        out = v.verify_many([job(i, p) for i, p in enumerate(cheats + harmless)])
    assert reasons(out) == ["forbidden"] * len(cheats) + ["ok"] * len(harmless)
    named = ["sorry", "sorry", "admit", "#exit", "axiom", "debug.skipKernelTC", "implemented_by", "extern",
             "unsafe", "run_cmd", "#eval", "elab", "macro", "theorem", "namespace"]
    for verdict, construct in zip(out, named):
        assert construct in verdict.detail and "line " in verdict.detail and verdict.seconds == 0
    # Only the harmless proofs ran (2 REPL requests each: the proof, then its checks) + reference + imports.
    ran = [r["cmd"] for _, r in repl_log() if "env" in r and "#check" not in r["cmd"]]
    assert sorted(ran) == sorted(prepare_job(job(i, p)).body for i, p in enumerate(harmless, start=len(cheats)))


def test_cheats_that_pass_the_text_policy_are_caught_by_the_checks():
    """With the policy bypassed (as if a cheat slipped through it), the run-time checks still hold:
    the theorem is looked up as `_root_.NAME`, its axioms must be whitelisted, and a sorry seen
    only as a warning still counts."""
    def bypass(j):
        return replace(prepare_job(j), violations=())

    cheats = [
        # a namespace left open with a clean theorem of the same short name: `NAME` would find X.p0
        job(0, "  native_decide\nnamespace X\ntheorem p0 (x : ℕ) (h : x = 2) : x + x = 4 := by norm_num", name="p0"),
        # an axiom declared in front of the theorem (smuggled into the statement's text) and used
        VerifyJob("1", "axiom cheat : False\ntheorem q : 1 = 2 :=", "cheat.elim"),
        # a sorry visible only as the old warning
        job(2, "  double_old_sorry"),
    ]
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        out = [f.result(timeout=30) for f in v._submit_prepared([bypass(j) for j in cheats])]
    assert reasons(out) == ["axiom", "axiom", "sorry"]
    assert "Lean.ofReduceBool" in out[0].detail
    assert "cheat" in out[1].axioms and "cheat" in out[1].detail


def test_statement_check_compares_the_elaborated_type_with_the_reference():
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        out = v.verify_many([job(0, "  double_retype"), job(1, "  norm_num"), job(2, "  double_retype\n  simp")])
    assert reasons(out) == ["statement", "ok", "statement"]
    assert out[0].detail.endswith("expected `∀ (x : ℕ) (h : x = 2), x + x = 4`, "
                                  "got `∀ (x : ℕ) (h : x = 2), x + x = 4 ∧ True`")


def test_a_header_that_fails_while_others_work_fails_its_jobs_only_marked_header_failed():
    jobs = [job(0, "  norm_num"), job(1, "  norm_num", header="import MissingModule\n"), job(2, "  norm_num"),
            job(3, "  norm_num", header="import MissingModule\n")]
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        out = v.verify_many(jobs)
    assert reasons(out) == ["ok", "error", "ok", "error"]
    assert "header" in out[1].detail and "MissingModule" in out[1].detail
    assert [x.header_failed for x in out] == [False, True, False, True]


def test_a_header_that_never_imports_anywhere_is_a_setup_error(tmp_path):
    """No header of the run has ever imported: one UserError, no verdicts, nothing written."""
    out_path = tmp_path / "verdicts.jsonl"
    jobs = [job(0, "  norm_num", header="import MissingModule\n"), job(1, "  sorry", header="import MissingModule\n"),
            job(2, "  norm_num", header="import MissingModule\n")]
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        with pytest.raises(UserError, match="no header of this run could be imported: .*MissingModule"):
            v.verify_many(jobs, out_path=str(out_path))
    assert not out_path.exists()  # not even the `forbidden` verdict of job 1


def test_a_header_failing_while_another_is_still_importing_waits_for_it():
    """The first failure is a setup error only if no import in progress succeeds: here the good
    header (importing slowly) is still in progress when the bad one fails."""
    slow = HEADER + "open double_sleep_800\n"
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        out = v.verify_many([job(0, "  norm_num", header=slow), job(1, "  norm_num", header="import MissingModule\n")])
    assert reasons(out) == ["ok", "error"] and out[1].header_failed


def test_the_header_import_is_not_charged_to_the_proof(repl_log):
    """An import slower than the proof's limit (`double_sleep_1500` in the header: the double sleeps
    1.5 s while importing) still leaves the proof its whole limit."""
    slow = HEADER + "open double_sleep_1500\n"
    with Verifier(DOUBLE, workers=1, timeout=0.6, header_timeout=10, progress=False) as v:
        out = v.verify_many([job(0, "  norm_num", header=slow), job(1, "  norm_num", header=slow)])
    assert reasons(out) == ["ok", "ok"], [x.detail for x in out]
    assert imports_seen(repl_log()) == 1


def test_a_header_import_that_never_answers_is_named_as_such():
    hang = HEADER + "open double_hang\n"
    # ... as a setup error when no header ever imported
    start = time.monotonic()
    with Verifier(DOUBLE, workers=1, timeout=5, header_timeout=0.5, progress=False) as v:
        with pytest.raises(UserError, match="no answer to the header import within 0.5 s"):
            v.verify_many([job(0, "  norm_num", header=hang)])
    assert time.monotonic() - start < 5  # the limit is the import's whole limit (no start-up allowance)
    # ... as a verdict when another header works; the next job of that header does not wait again
    with Verifier(DOUBLE, workers=1, timeout=5, header_timeout=0.5, progress=False) as v:
        out = v.verify_many([job(0, "  norm_num"), job(1, "  norm_num", header=hang), job(2, "  norm_num", header=hang),
                             job(3, "  norm_num")])
    assert reasons(out) == ["ok", "timeout", "timeout", "ok"]
    assert out[1].detail == out[2].detail == "no answer to the header import within 0.5 s"
    assert out[1].header_failed and out[2].header_failed and out[2].seconds < 0.4
    assert "died" not in out[1].detail


def test_text_that_cannot_be_sent_fails_only_its_proof(repl_log):
    """A lone surrogate (valid in a Python str, e.g. from a JSON `\\ud800` escape, but with no
    UTF-8 spelling) cannot be sent to the REPL: an `error` verdict naming it, and the batch goes on."""
    jobs = [job(0, "  norm_num"), job(1, "  simp -- \ud800\n  norm_num"), job(2, "  norm_num")]
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok", "error", "ok"]
    assert "\\ud800" in out[1].detail and "UTF-8" in out[1].detail
    assert stats["restarts"] == 0 and imports_seen(repl_log()) == 1  # the process was not touched


def test_positions_map_back_to_the_submitted_code():
    j = job(0, "  subst h\n  -- now compute\n  double_error")
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        (verdict,) = v.verify_many([j])
    code = prepare_job(j).code
    (message,) = verdict.messages
    line, column = message["pos"]["line"], message["pos"]["column"]
    assert code.splitlines()[line - 1][column:].startswith("double_error")
    assert line == HEADER.count("\n") + 4 and verdict.detail.startswith(f"line {line}:{column}")


# ----------------------------------------------------------------------------- faults

def test_a_hanging_proof_times_out_and_the_pool_goes_on(repl_log):
    jobs = [job(0, "  norm_num"), job(1, "  double_hang"), job(2, "  norm_num"), job(3, "  double_error")]
    start = time.monotonic()
    with Verifier(DOUBLE, workers=1, timeout=1.5, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok", "timeout", "ok", "error"]
    assert 1.5 <= out[1].seconds < 4 and "1.5s" in out[1].detail
    assert time.monotonic() - start < 15
    assert stats["restarts"] == 1 and stats["header_imports"] == 2 == imports_seen(repl_log())
    # The hanging process is gone, as is every other.
    time.sleep(0.2)
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in {pid for pid, _ in repl_log()})


def test_crash_garbage_and_out_of_memory_cost_only_their_proof():
    jobs = [job(0, "  norm_num"), job(1, "  double_crash"), job(2, "  norm_num"), job(3, "  double_garbage"),
            job(4, "  norm_num"), job(5, "  double_oom"), job(6, "  norm_num")]
    with Verifier(DOUBLE, workers=1, timeout=5, mem_gb=4, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok", "crash", "ok", "crash", "ok", "memory", "ok"]
    assert "exit status 1" in out[1].detail
    assert "not a JSON reply" in out[3].detail and "this is not JSON" in out[3].detail
    assert "out of memory" in out[5].detail and "4 GiB" in out[5].detail
    assert stats["restarts"] == 3 and stats["header_imports"] == 4


def test_the_memory_cap_is_real(repl_log):
    """RLIMIT_AS (mem_gb) really applies to the REPL: an allocation past it kills only that proof."""
    jobs = [job(0, "  double_alloc_64\n  norm_num"), job(1, "  double_alloc_4096\n  norm_num"), job(2, "  norm_num")]
    with Verifier(DOUBLE, workers=1, timeout=10, mem_gb=1, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok", "memory", "ok"]
    assert "1 GiB" in out[1].detail and stats["restarts"] == 1


def test_a_thousand_proofs_with_five_percent_faults(tmp_path):
    faults = {}  # index -> (proof, expected reason)
    kinds = ([("  double_hang", "timeout")] * 4 + [("  double_crash", "crash")] * 10 +
             [("  double_garbage", "crash")] * 10 + [("  double_error", "error")] * 10 +
             [("  sorry", "forbidden")] * 8 + [("  double_old_sorry", "sorry")] * 8)
    assert len(kinds) == 50
    for k, kind in enumerate(kinds):
        faults[7 + 20 * k] = kind
    jobs, expected = [], []
    for i in range(1000):
        proof, reason = faults.get(i, ("  norm_num" if i % 3 else "  subst h\n  simp", "ok"))
        jobs.append(job(i, f"{proof}\n  -- attempt {i}", name=f"p{i % 50}"))  # no two alike: no sharing
        expected.append(reason)
    out_path = tmp_path / "verdicts.jsonl"
    start = time.monotonic()
    with Verifier(DOUBLE, workers=2, timeout=2.0, max_uses=10_000, progress=False) as v:
        out = v.verify_many(jobs, out_path=str(out_path))
        stats = v.stats()
    elapsed = time.monotonic() - start
    assert len(out) == 1000 and [v.id for v in out] == [str(i) for i in range(1000)]
    assert reasons(out) == expected
    lines = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["id"] for d in lines) == sorted(str(i) for i in range(1000))
    assert {d["id"]: d["reason"] for d in lines} == {str(i): r for i, r in enumerate(expected)}
    assert stats["verified"] == 1000 and stats["restarts"] == 24 and stats["shared"] == 0
    assert stats["header_imports"] <= 2 + 24
    assert elapsed < 60


def test_processes_are_recycled_after_max_uses_and_above_the_rss_threshold(repl_log):
    with Verifier(DOUBLE, workers=1, timeout=10, max_uses=3, progress=False) as v:
        out = v.verify_many([job(i, "  norm_num") for i in range(7)])
        stats = v.stats()
    assert reasons(out) == ["ok"] * 7
    assert stats["restarts"] == 2 and stats["header_imports"] == 3
    assert len({pid for pid, _ in repl_log()}) == 3
    with Verifier(DOUBLE, workers=1, timeout=10, max_rss_gb=1e-6, progress=False) as v:  # ~1 KiB: always above
        out = v.verify_many([job(i, "  norm_num") for i in range(3)])
        stats = v.stats()
    assert reasons(out) == ["ok"] * 3 and stats["restarts"] == 3 and stats["header_imports"] == 3


# ----------------------------------------------------------------------------- identical proofs

def proof_requests(log) -> list[str]:
    """The proofs the REPL was asked to check (not imports, checks or reference types)."""
    return [r["cmd"] for _, r in log if "env" in r and "#check" not in r["cmd"]]


def test_identical_proofs_are_checked_once_and_each_id_gets_the_verdict(repl_log):
    proofs = ["  norm_num", "  double_error", "  double_hang", "  simp [h]"]
    jobs = [job(i, proofs[i % 4], name="p") for i in range(12)]
    # the same proof under a header that differs only in layout is the same check ...
    jobs.append(job(12, "  norm_num", name="p", header="import   Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000"
                                                     "\n\nopen BigOperators Real Nat Topology Rat\n\n"))
    # ... a different header or statement is not
    jobs.append(job(13, "  norm_num", name="p", header=HEADER.replace("Aesop", "Mathlib.Tactic")))  # as many lines
    jobs.append(job(14, "  norm_num", name="q"))
    with Verifier(DOUBLE, workers=2, timeout=1.0, progress=False) as v:
        out = v.verify_many(jobs)
        again = v.submit(job(99, "  double_error", name="p")).result(timeout=30)  # a later identical job
        stats = v.stats()
    assert [x.id for x in out] == [str(i) for i in range(15)]
    assert reasons(out) == ["ok", "error", "timeout", "ok"] * 3 + ["ok", "ok", "ok"]
    assert again.id == "99" and again.reason == "error" and again.detail == out[1].detail
    assert out[5].messages == out[1].messages and out[5].messages  # a copy of the whole verdict
    bodies = proof_requests(repl_log())
    assert len(bodies) == 4 + 2 and len(set(bodies)) == 5  # 4 distinct proofs + other header + q
    assert stats["shared"] == 8 + 1 + 1 and stats["restarts"] == 1  # the hang ran (and timed out) once
    assert stats["verified"] == 16


# ----------------------------------------------------------------------------- header reuse

def test_one_header_many_jobs_imports_once_per_worker(repl_log):
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        out = v.verify_many([job(i, "  norm_num") for i in range(40)])
        stats = v.stats()
    assert reasons(out) == ["ok"] * 40
    assert stats["header_imports"] == 2 == imports_seen(repl_log())
    # every proof ran in its worker's header environment
    assert all(r.get("env") is not None for _, r in repl_log() if "theorem p" in r["cmd"] and "sorry" not in r["cmd"])


def test_k_headers_one_worker_imports_each_header_once(repl_log):
    headers = ["import Mathlib\n", "import Mathlib\nopen Real\n", "import Aesop\n"]
    # interleaved, plus layout variants of the first header (same canonical header)
    jobs = [job(i, "  norm_num", header=headers[i % 3]) for i in range(12)]
    jobs.append(job(12, "  norm_num", header="-- the usual\nimport   Mathlib\n\n"))
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok"] * 13
    assert stats["header_imports"] == 3 == imports_seen(repl_log())


def test_k_headers_w_workers_import_once_per_worker_per_header(repl_log):
    """2 headers x 2 workers, jobs grouped by header: both workers serve header A, then both are
    retired (least recently used first) for header B: 4 imports."""
    a, b = "import Mathlib\n", "import Aesop\n"
    jobs = [job(i, "  double_sleep_30\n  norm_num", header=a) for i in range(10)]
    jobs += [job(10 + i, "  double_sleep_30\n  norm_num", header=b) for i in range(10)]
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    assert reasons(out) == ["ok"] * 20
    assert stats["header_imports"] == 4 == imports_seen(repl_log())
    # A timeout restarts its worker: exactly one more import.
    with Verifier(DOUBLE, workers=1, timeout=1.0, progress=False) as v:
        v.verify_many([job(0, "  norm_num", header=a), job(1, "  double_hang", header=a), job(2, "  norm_num", header=a)])
        assert v.stats()["header_imports"] == 2 and v.stats()["restarts"] == 1


# ----------------------------------------------------------------------------- API

def test_submit_returns_futures_and_stats_are_complete():
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        futures = [v.submit(job(i, "  double_sleep_20\n  norm_num")) for i in range(6)]
        verdicts = [f.result(timeout=30) for f in futures]
        stats = v.stats()
    assert reasons(verdicts) == ["ok"] * 6
    assert set(stats) == {"workers", "header_imports", "restarts", "busy_seconds", "wall_seconds", "verified",
                          "shared"}
    assert stats["workers"] == 2 and stats["verified"] == 6 and stats["header_imports"] == 2
    # two workers in parallel: more busy time than wall time
    assert stats["busy_seconds"] > stats["wall_seconds"] > 0.06


def test_concurrent_verify_many_calls_from_threads():
    results = {}
    with Verifier(DOUBLE, workers=2, timeout=10, progress=False) as v:
        def batch(k):
            results[k] = v.verify_many([job(f"{k}-{i}", "  norm_num" if i % 2 else "  double_error") for i in range(10)])
        threads = [threading.Thread(target=batch, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    for k in range(3):
        assert [v.id for v in results[k]] == [f"{k}-{i}" for i in range(10)]
        assert reasons(results[k]) == ["error", "ok"] * 5


def test_configuration_errors_are_user_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("THEOREMLLAMA_REPL_CMD", raising=False)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "lakefile.lean").write_text("-- empty\n")
    with pytest.raises(UserError, match="setup-lean"):
        Verifier(lean_project=str(project))
    with pytest.raises(UserError, match="not a Lean project"):
        Verifier(lean_project=str(tmp_path))
    with pytest.raises(UserError, match="not found"):
        Verifier("/nonexistent/repl --flag")
    monkeypatch.setenv("THEOREMLLAMA_REPL_CMD", " ".join(DOUBLE))
    with Verifier(workers=1, progress=False) as v:  # the environment variable names the REPL
        assert v.verify_many([job(0, "  norm_num")])[0].passed
    with pytest.raises(UserError, match="not a `theorem`"):
        with Verifier(DOUBLE, workers=1, progress=False) as v:
            v.verify_many([job(0, "  norm_num"), VerifyJob("bad", "def x : ℕ := 1", "rfl")])
    # A REPL command that dies before it ever imports a header is a setup problem, not 1000 crashes.
    with Verifier(["/bin/sh", "-c", "echo 'lake: unknown toolchain' >&2; exit 3"], workers=1, progress=False) as v:
        with pytest.raises(UserError, match="unknown toolchain"):
            v.verify_many([job(0, "  norm_num"), job(1, "  norm_num")])


# ----------------------------------------------------------------------------- the double itself

@pytest.mark.parametrize("transcript", ["dup_sorries", "unknown_environment", "import_lean"])
def test_the_double_answers_recorded_requests_as_the_real_repl_did(fixtures, transcript):
    """The double speaks the real wire protocol: fed a recorded session's requests, its replies
    (framing, key order, env and proofState numbering, positions, sorry goals) equal Lean's."""
    import subprocess

    from theoremllama.lean.protocol import split_replies

    folder = fixtures / "repl_transcripts_v4.24.0"  # the version the double models
    requests = (folder / f"{transcript}.in").read_text(encoding="utf-8")
    out = subprocess.run(DOUBLE, input=requests + "\n\n", capture_output=True, text=True, timeout=30).stdout
    expected = split_replies((folder / f"{transcript}.expected.out").read_text(encoding="utf-8"))
    got = split_replies(out)
    assert got == expected and [list(r) for r in got] == [list(r) for r in expected]
    assert out.endswith("}\n\n") and out.count("\n\n") == len(expected)


# ----------------------------------------------------------------------------- the REPL and its Lake environment

FAULTS = Path(__file__).resolve().parents[1] / "support" / "repl_faults.py"


@pytest.fixture
def lake_project(tmp_path, monkeypatch):
    """A Lean project whose `lake` (on PATH) and built REPL are scripts: the process boundary.

    The fake `lake env` prints the environment as Lake's `lake env` does with no command
    (`VAR=VALUE` per line; an empty value is a variable Lake unsets) and logs its arguments. The
    "REPL" refuses to start without that LEAN_PATH, then execs the command in $REPL_UNDER_TEST."""
    project, bin_dir = tmp_path / "proj", tmp_path / "bin"
    repl = project / ".lake/packages/REPL/.lake/build/bin/repl"
    repl.parent.mkdir(parents=True)
    bin_dir.mkdir()
    (project / "lakefile.lean").write_text("-- fake\n")
    lake_log = tmp_path / "lake.log"
    lake = bin_dir / "lake"
    lake.write_text(f"#!/bin/sh\necho \"$@\" >> {lake_log}\n"
                    f"[ \"$1\" = env ] && [ $# -eq 1 ] || exit 9\n"
                    f"echo LEAN_PATH={project}/.lake/build/lib/lean\necho LEAN_SRC_PATH=\necho THEOREMLLAMA_UNSET_ME=\n")
    repl.write_text("#!/bin/sh\n"
                    f"[ \"$LEAN_PATH\" = \"{project}/.lake/build/lib/lean\" ] || {{ echo \"no LEAN_PATH\" >&2; exit 5; }}\n"
                    "[ -z \"${THEOREMLLAMA_UNSET_ME+x}\" ] || { echo \"not unset\" >&2; exit 6; }\n"
                    "exec $REPL_UNDER_TEST\n")
    for script in (lake, repl):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("THEOREMLLAMA_UNSET_ME", "1")
    monkeypatch.delenv("THEOREMLLAMA_REPL_CMD", raising=False)
    monkeypatch.setenv("REPL_UNDER_TEST", " ".join(DOUBLE))
    return project, lambda: lake_log.read_text().splitlines() if lake_log.exists() else []


def test_the_repl_runs_directly_in_lakes_environment(lake_project, repl_log):
    project, lake_calls = lake_project
    with Verifier(lean_project=str(project), workers=2, timeout=10, progress=False) as v:
        assert v.argv == [str(project / ".lake/packages/REPL/.lake/build/bin/repl")]
        futures = [v.submit(job(i, "  double_sleep_1500\n  norm_num")) for i in range(2)]
        deadline = time.monotonic() + 10
        while len({pid for pid, _ in repl_log()}) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # until both REPLs are up (and busy): then look at who their parent is
        pids = {pid for pid, _ in repl_log()}
        parents = {psutil.Process(pid).ppid() for pid in pids}
        out = [f.result(timeout=30) for f in futures]
    assert reasons(out) == ["ok", "ok"]
    assert len(pids) == 2 and parents == {os.getpid()}  # no `lake env` between us and the REPL
    assert lake_calls() == ["env"]  # the environment is resolved once per Verifier


def test_a_repl_killed_by_the_oom_killer_gets_the_verdict_memory(lake_project, monkeypatch):
    """SIGKILL from outside (the kernel's OOM killer) reaches us as the REPL's own death by
    signal: under `lake env` it would be Lake's exit status, and the verdict `crash`."""
    project, _ = lake_project
    monkeypatch.setenv("REPL_UNDER_TEST", f"{sys.executable} {FAULTS} sigkill kill_me")
    with Verifier(lean_project=str(project), workers=1, timeout=10, progress=False) as v:
        out = v.verify_many([job(0, "  kill_me"), job(1, "  norm_num")])
    assert out[0].reason == "memory" and "out of memory" in out[0].detail
    assert out[1].reason != "memory"  # the next proof has a fresh process (the echo REPL's answers)


def test_lake_env_failures_are_user_errors(lake_project, tmp_path):
    project, _ = lake_project
    (tmp_path / "bin" / "lake").write_text("#!/bin/sh\necho 'error: no such file lakefile' >&2\nexit 1\n")
    with pytest.raises(UserError, match="`.*lake env` in .* failed: error: no such file lakefile"):
        Verifier(lean_project=str(project), workers=1, progress=False)
    (tmp_path / "bin" / "lake").write_text("#!/bin/sh\necho PATH=/usr/bin\n")
    with pytest.raises(UserError, match="printed no LEAN_PATH"):
        Verifier(lean_project=str(project), workers=1, progress=False)


# ----------------------------------------------------------------------------- sizing

def test_the_default_worker_count_follows_free_memory_and_cores():
    from theoremllama.lean.pool import REPL_MEMORY_GIB, default_workers

    gib = 2**30
    assert default_workers(available_bytes=64 * gib, cpus=16) == 64 // REPL_MEMORY_GIB  # memory binds
    assert default_workers(available_bytes=1024 * gib, cpus=16) == 15  # cores bind (one left free)
    assert default_workers(available_bytes=1 * gib, cpus=16) == 1  # at least one
    assert default_workers(available_bytes=1024 * gib, cpus=1) == 1
    assert default_workers(4.0, available_bytes=64 * gib, cpus=64) == 16  # the estimate is a parameter
    assert default_workers(available_bytes=int(23.9 * gib), cpus=64) == 2  # rounds down
    # the Verifier uses it when no count is given, and the recycling threshold has a default
    with Verifier(DOUBLE, repl_memory_gb=1e9, progress=False) as v:
        assert v.workers == 1 and v.limits.max_rss_bytes == 12 * gib
    with Verifier(DOUBLE, max_rss_gb=None, progress=False) as v:
        assert v.limits.max_rss_bytes is None


def test_the_shipped_configs_verifier_options_are_verifier_arguments(root):
    """`verifier:` of the eval configs goes to Verifier(**options) as is; the bootstrap config's
    `verify:` names the same options (header_timeout included); `url` and `ray` choose another
    verifier (`lean/open.py`)."""
    import inspect

    import yaml

    accepted = set(inspect.signature(Verifier).parameters) | {"url", "ray"}
    for path in sorted((root / "eval").glob("*.yaml")):
        options = yaml.safe_load(path.read_text(encoding="utf-8")).get("verifier") or {}
        assert set(options) <= set(accepted), (path, set(options) - set(accepted))
    minif2f = yaml.safe_load((root / "eval" / "minif2f.yaml").read_text(encoding="utf-8"))["verifier"]
    assert minif2f["header_timeout"] == 600 and minif2f["max_rss_gb"] == 12
    bootstrap = yaml.safe_load((root / "configs" / "bootstrap" / "default.yaml").read_text(encoding="utf-8"))["verify"]
    assert set(bootstrap) - {"enabled"} <= set(accepted) and "header_timeout" in bootstrap
