"""`theoremllama verify` and `theoremllama setup-lean` as a user runs them (subprocesses).

Boundary doubled: the Lean REPL process only (tests/support/fake_lean_repl.py, given with
--repl-cmd); setup-lean runs for real on this machine, which has no elan and no route to GitHub.
"""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOUBLE_CMD = shlex.join([sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")])
EXAMPLES = ROOT / "data" / "examples" / "minif2f_valid_commented.jsonl"


def cli(*args, env=None, timeout=120, **kwargs):
    return subprocess.run([sys.executable, "-m", "theoremllama.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env, **kwargs)


def verify(inp, out, *extra, env=None):
    return cli("verify", inp, "-o", out, "--repl-cmd", DOUBLE_CMD, "--workers", 2, "--no-progress", *extra, env=env)


def read(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def write_jsonl(path, records):
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_shipped_examples_verify_with_a_summary(tmp_path):
    out = tmp_path / "runs" / "examples.verdicts.jsonl"
    done = verify(EXAMPLES, out)
    assert done.returncode == 0, done.stderr
    verdicts = read(out)
    assert len(verdicts) == 106 and len({v["id"] for v in verdicts}) == 106
    by_reason = {}
    for v in verdicts:
        by_reason[v["reason"]] = by_reason.get(v["reason"], 0) + 1
    # The double accepts every real proof; the 13 published `sorry` placeholders are forbidden.
    assert by_reason == {"ok": 93, "forbidden": 13}
    assert "verdicts in" in done.stdout and "106 of 106" in done.stdout
    assert "ok" in done.stdout and "93" in done.stdout and "forbidden" in done.stdout


def test_resume_skips_done_ids_and_repairs_a_truncated_line(tmp_path):
    records = [{"id": f"t{i}", "formal_statement": f"theorem t{i} (x : ℕ) : x + 0 = x := by\n",
                "proof": "  simp" if i % 4 else "  double_error", "header": "import Mathlib\n"} for i in range(12)]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records)
    first = verify(inp, out)
    assert first.returncode == 0, first.stderr
    full = read(out)
    # Keep 5 verdicts and half of a sixth (a run killed while writing), then resume.
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:5]) + lines[5][:20], encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    second = verify(inp, out, env={**os.environ, "FAKE_LEAN_REPL_LOG": str(log)})
    assert second.returncode == 0, second.stderr
    assert "5 already in" in second.stderr and "7 to check" in second.stderr
    resumed = read(out)
    assert sorted(v["id"] for v in resumed) == sorted(r["id"] for r in records)
    assert {v["id"]: v["reason"] for v in resumed} == {v["id"]: v["reason"] for v in full}
    kept = {json.loads(line)["id"] for line in lines[:5]}
    checked = {line for line in log.read_text(encoding="utf-8").splitlines() if '"env"' in line and "#check" not in line}
    assert len(checked) == 7 and not any(f"theorem {k} " in line for k in kept for line in checked)
    # A third run has nothing to do.
    third = verify(inp, out)
    assert third.returncode == 0 and "0 to check" in third.stderr and len(read(out)) == 12


@pytest.mark.slow
def test_a_killed_run_resumes_without_duplicates(tmp_path):
    records = [{"name": f"s{i}", "statement": f"theorem s{i} : 1 + 1 = 2 :=", "proof": "by double_sleep_150 norm_num"}
               for i in range(16)]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records)
    argv = [sys.executable, "-m", "theoremllama.cli", "verify", str(inp), "-o", str(out), "--repl-cmd", DOUBLE_CMD,
            "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 4):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {v["id"] for v in read(out)} if out.read_text().endswith("\n") else None
    assert before is None or 4 <= len(before) < 16
    again = verify(inp, out)
    assert again.returncode == 0, again.stderr
    ids = [v["id"] for v in read(out)]
    assert sorted(ids) == sorted(f"s{i}" for i in range(16))  # each once
    assert all(v["passed"] for v in read(out))


@pytest.mark.parametrize("line,expected", [
    ('{"id": "a", "formal_statement": "theorem a : True :="}', ":2: field 'proof': missing"),
    ('{"formal_statement": "theorem a : True :=", "proof": "trivial"}', ":2: field 'id': missing (or 'name')"),
    ('{"id": "a", "proof": "trivial"}', ":2: field 'formal_statement': missing (or 'statement')"),
    ('{"id": "a", "statement": "def a : True :=", "proof": "trivial"}', ":2: field 'statement': "),
    ('{"id": "a", "statement": "theorem a : True :=", "proof": 3}', ":2: field 'proof': expected a str"),
    ('{"id": "ok", "statement": "theorem a : True :=", "proof": "trivial"}', ":2: field 'id': duplicate id 'ok'"),
    ('{"id": "a", "statement": "theorem a : True :=" "proof": "trivial"}', ":2: invalid JSON"),
    ('["a"]', ":2: expected a JSON object"),
])
def test_bad_records_are_named_by_file_line_and_field(tmp_path, line, expected):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": "ok", "statement": "theorem ok : True :=", "proof": "trivial"}\n' + line + "\n",
                   encoding="utf-8")
    done = verify(inp, tmp_path / "out.jsonl")
    assert done.returncode == 2
    (message,) = done.stderr.strip().splitlines()  # one line, no traceback
    assert message.startswith("theoremllama verify: error: ") and f"{inp}{expected}" in message
    assert not (tmp_path / "out.jsonl").exists()


def test_without_a_configured_repl_the_user_is_told_what_to_do(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "lakefile.lean").write_text("-- a project whose REPL is not built\n")
    env = {k: v for k, v in os.environ.items() if k != "THEOREMLLAMA_REPL_CMD"}
    env["THEOREMLLAMA_LEAN_PROJECT"] = str(project)
    done = cli("verify", EXAMPLES, "-o", tmp_path / "out.jsonl", env=env)
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert "theoremllama setup-lean" in message and "--repl-cmd" in message and "Traceback" not in done.stderr


def _no_lean_env(tmp_path, **extra):
    home = tmp_path / "home"
    home.mkdir()
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not (Path(p) / "lake").exists())
    env = {**os.environ, "HOME": str(home), "PATH": path, **extra}
    env.pop("ELAN_HOME", None)
    return env


def test_setup_lean_fails_fast_and_clearly_without_network(tmp_path):
    # A closed port on loopback: the installer download is refused at once, wherever this runs.
    env = _no_lean_env(tmp_path, THEOREMLLAMA_ELAN_INSTALLER_URL="http://127.0.0.1:9/elan-init.sh")
    start = time.monotonic()
    done = cli("setup-lean", env=env, timeout=60)
    assert done.returncode == 2
    assert time.monotonic() - start < 20
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("theoremllama setup-lean: error: ")
    assert "elan" in message and "--repl-cmd" in message and "THEOREMLLAMA_REPL_CMD" in message
    assert "Traceback" not in done.stderr


def _github_reachable() -> bool:
    try:
        socket.create_connection(("raw.githubusercontent.com", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("lake") is not None, reason="Lean is installed here")
def test_setup_lean_on_this_machine_without_github(tmp_path):
    if _github_reachable():
        pytest.skip("GitHub is reachable: setup-lean would really install elan")
    start = time.monotonic()
    done = cli("setup-lean", env=_no_lean_env(tmp_path), timeout=60)
    assert done.returncode == 2 and time.monotonic() - start < 30
    assert "could not be downloaded from https://raw.githubusercontent.com/leanprover/elan" in done.stderr


# ----------------------------------------------------------------------------- header failures and identical proofs

def test_a_run_whose_header_never_imports_stops_with_one_line_and_writes_nothing(tmp_path):
    records = [{"id": f"m{i}", "formal_statement": f"theorem m{i} : 1 + 1 = 2 := by\n", "proof": p,
                "header": "import MissingModule\n"} for i, p in enumerate(["  norm_num", "  sorry", "  simp"])]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records)
    done = verify(inp, out)
    assert done.returncode == 2
    (message,) = done.stderr.strip().splitlines()[1:]  # after the "verify: N proofs" line: one line
    assert message.startswith("theoremllama verify: error: no header of this run could be imported")
    assert "MissingModule" in message and "Traceback" not in done.stderr
    assert not out.exists()


def test_verdicts_of_a_failed_header_are_redone_on_a_rerun(tmp_path):
    records = [{"id": f"h{i}", "formal_statement": f"theorem h{i} (x : ℕ) : x + 0 = x := by\n", "proof": "  simp",
                "header": "import Mathlib\n" if i % 2 == 0 else "import MissingModule\n"} for i in range(6)]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records)
    first = cli("verify", inp, "-o", out, "--repl-cmd", DOUBLE_CMD, "--workers", 1, "--no-progress")
    assert first.returncode == 0, first.stderr
    verdicts = {v["id"]: v for v in read(out)}
    assert {k: (v["reason"], v["header_failed"]) for k, v in verdicts.items()} == {
        f"h{i}": ("ok", False) if i % 2 == 0 else ("error", True) for i in range(6)}
    before = out.read_text(encoding="utf-8")
    # A rerun tries those proofs again (and only those): their header still fails, and now no
    # header of the run imports at all, so it is a setup error that writes nothing.
    log = tmp_path / "requests.jsonl"
    second = verify(inp, out, env={**os.environ, "FAKE_LEAN_REPL_LOG": str(log)})
    assert second.returncode == 2 and "3 already in" in second.stderr and "3 to check" in second.stderr
    imported = {json.loads(line)["request"]["cmd"] for line in log.read_text(encoding="utf-8").splitlines()}
    assert imported == {"import MissingModule\n"}
    assert out.read_text(encoding="utf-8") == before
    # With the header fixed, the rerun checks exactly those proofs.
    write_jsonl(inp, [{**r, "header": "import Mathlib\n"} for r in records])
    third = verify(inp, out)
    assert third.returncode == 0, third.stderr
    assert "3 already in" in third.stderr and "3 to check" in third.stderr
    assert "6 of 6" in third.stdout and "100.0%" in third.stdout


def test_identical_proofs_across_a_resume_copy_the_verdict(tmp_path):
    base = {"formal_statement": "theorem d (x : ℕ) : x + 0 = x := by\n", "header": "import Mathlib\n"}
    records = [{**base, "id": f"d{i}", "proof": "  simp" if i % 2 == 0 else "  double_error"} for i in range(8)]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records[:2])
    assert verify(inp, out).returncode == 0
    write_jsonl(inp, records)
    log = tmp_path / "requests.jsonl"
    second = verify(inp, out, env={**os.environ, "FAKE_LEAN_REPL_LOG": str(log)})
    assert second.returncode == 0, second.stderr
    assert "6 identical to one there" in second.stderr and "0 to check" in second.stderr
    assert not log.exists()  # no REPL was even started
    verdicts = {v["id"]: v for v in read(out)}
    assert sorted(verdicts) == [f"d{i}" for i in range(8)]
    assert all(verdicts[f"d{i}"]["reason"] == ("ok" if i % 2 == 0 else "error") for i in range(8))
    assert verdicts["d5"]["messages"] == verdicts["d1"]["messages"] != []


def test_within_one_run_identical_proofs_are_checked_once(tmp_path):
    records = [{"id": f"s{i}", "formal_statement": "theorem s (x : ℕ) : x + 0 = x := by\n", "proof": "  simp",
                "header": "import Mathlib\n"} for i in range(20)]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(inp, records)
    log = tmp_path / "requests.jsonl"
    done = verify(inp, out, env={**os.environ, "FAKE_LEAN_REPL_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    assert len(read(out)) == 20 and all(v["passed"] for v in read(out))
    checks = [line for line in log.read_text(encoding="utf-8").splitlines() if '"env"' in line and "#check" not in line]
    assert len(checks) == 1 and "19 verdicts copied from identical proofs" in done.stdout


# ----------------------------------------------------------------------------- setup-lean's steps

FAKE_LAKE = '''#!{python}
"""A stand-in for Lake at the process boundary: logs its arguments (and MATHLIB_NO_CACHE_ON_UPDATE),
prints the environment for `lake env` (VAR=VALUE lines, as Lake's `lake env` with no command),
and for `lake build repl` writes the REPL binary: a script that runs $REPL_UNDER_TEST."""
import json, os, sys
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(json.dumps([args, os.environ.get("MATHLIB_NO_CACHE_ON_UPDATE")]) + "\\n")
if args == ["env"]:
    print("LEAN_PATH=" + os.getcwd() + "/.lake/build/lib/lean")
elif args == ["build", "repl"]:
    path = ".lake/packages/REPL/.lake/build/bin/repl"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#!/bin/sh\\nexec $REPL_UNDER_TEST\\n")
    os.chmod(path, 0o755)
'''


@pytest.fixture
def fake_lean_machine(tmp_path):
    """A project with Mathlib cloned, and a PATH holding only a fake `lake` (plus git/curl if asked)."""
    project, bin_dir, log = tmp_path / "proj", tmp_path / "bin", tmp_path / "lake.log"
    (project / ".lake" / "packages" / "mathlib").mkdir(parents=True)
    (project / "lakefile.lean").write_text("-- fake\n")
    bin_dir.mkdir()
    lake = bin_dir / "lake"
    lake.write_text(FAKE_LAKE.format(python=sys.executable, log=str(log)))
    lake.chmod(0o755)

    base_env = _no_lean_env(tmp_path)

    def run(*args, tools=("git", "curl"), repl=DOUBLE_CMD):
        for tool in tools:
            (bin_dir / tool).symlink_to(shutil.which(tool))
        env = {**base_env, "PATH": str(bin_dir), "REPL_UNDER_TEST": repl}
        done = cli("setup-lean", "--lean-project", project, *args, env=env, timeout=60)
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return done, calls
    return run


def test_setup_lean_fetches_the_cache_builds_mathlib_and_the_repl_then_checks_with_the_harness(fake_lean_machine):
    done, calls = fake_lean_machine()
    assert done.returncode == 0, done.stderr
    assert [args for args, _ in calls] == [["exe", "cache", "get"], ["build", "Mathlib"], ["build", "repl"], ["env"]]
    # the smoke test imported the header and parsed the harness's own #check / #print axioms output
    passed = next(line for line in done.stdout.splitlines() if "smoke test passed" in line)
    assert "theoremllama_smoke : " in passed and "; axioms [" in passed  # the type and axioms, as parsed


def test_setup_lean_skip_cache_builds_mathlib_from_source(fake_lean_machine):
    done, calls = fake_lean_machine("--skip-cache")
    assert done.returncode == 0, done.stderr
    assert calls[:2] == [[["build", "Mathlib"], "1"], [["build", "repl"], "1"]]  # no cache, not even via the hook
    assert not any(args[:2] == ["exe", "cache"] for args, _ in calls)


def test_setup_lean_checks_git_and_curl_before_anything(fake_lean_machine):
    done, calls = fake_lean_machine(tools=("curl",))
    assert done.returncode == 2 and calls == []
    (message,) = done.stderr.strip().splitlines()
    assert "needs git on PATH" in message and "curl" not in message.split("(")[0]
    done, calls = fake_lean_machine(tools=("git",))  # git is now there too (symlinked above)
    assert done.returncode == 0, done.stderr


def test_setup_lean_fails_when_the_harness_cannot_parse_the_repls_output(fake_lean_machine):
    # a "REPL" that answers every command with its own text: no type, no axiom list
    echo = shlex.join([sys.executable, str(ROOT / "tests" / "support" / "repl_faults.py"), "echo"])
    done, _ = fake_lean_machine(repl=echo)
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert "cannot read the type `#check` printed" in message and "does not match the harness" in message


def test_the_smoke_test_rejects_an_axiom_list_outside_the_whitelist(tmp_path):
    """In-process, against the REPL double: a theorem proved by `native_decide` (the double then
    lists `Lean.ofReduceBool`, as Lean does) must fail the smoke test; `by norm_num` passes."""
    from theoremllama.errors import UserError
    from theoremllama.lean.setup import smoke_test

    double = shlex.split(DOUBLE_CMD)
    smoke_test(double, tmp_path, None, theorem=("theorem smoke_ok : 2 + 2 = 4 :=", "by norm_num"))
    with pytest.raises(UserError, match="outside .*Lean.ofReduceBool"):
        smoke_test(double, tmp_path, None, theorem=("theorem smoke_native : 2 + 2 = 4 :=", "by native_decide"))


def test_a_proof_with_a_lone_surrogate_fails_alone(tmp_path):
    """`\\ud800` is valid JSON and becomes a lone surrogate in Python, which has no UTF-8 spelling."""
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text('{"id": "a", "formal_statement": "theorem a : 1 = 1 :=", "proof": "by norm_num -- \\ud800"}\n'
                   '{"id": "b", "formal_statement": "theorem b : 1 = 1 :=", "proof": "by norm_num"}\n', encoding="utf-8")
    done = verify(inp, out)
    assert done.returncode == 0, done.stderr
    verdicts = {v["id"]: v for v in read(out)}
    assert verdicts["a"]["reason"] == "error" and "\\ud800" in verdicts["a"]["detail"]
    assert verdicts["b"]["reason"] == "ok"
