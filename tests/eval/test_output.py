"""What `eval` prints: one summary line for the data layer's notes (details with --verbose and in
run.log), and `--limit N` caps the run at N problems however often it is rerun. The model is the
scripted OpenAI-compatible server on loopback; Lean is the REPL test double (real Verifier)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.openai_server import ScriptedOpenAIServer
from theoremllama.cli import main
from theoremllama.eval.attempts import read_attempts

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
PROOF = "```lean4\ntheorem t : True := by\n  norm_num\n```"


def _argv(server, out, *extra):
    return ["eval", "--config", str(ROOT / "eval" / "smoke.yaml"), "--no-progress", "--output-dir", str(out),
            "--set", f"llm.base_url={server.base_url}", "--set", "samples=1", "--set", "rounds=1",
            "--set", f"verifier={{repl_cmd: {FAKE_REPL}, workers: 1}}", *extra]


def _run(argv):
    """A real `theoremllama` process: its logging is configured as a user's would be."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    proc = subprocess.run([sys.executable, "-m", "theoremllama.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_name_notes_are_one_line_with_details_in_the_run_log_and_with_verbose(tmp_path):
    with ScriptedOpenAIServer(lambda body: PROOF) as server:
        err = _run(_argv(server, tmp_path / "a", "--limit", "1"))
        notes = [line for line in err.splitlines() if "MiniF2F" in line]
        # 14 cut-off names, 13 `sorry` placeholders, 1 name matched by its statement
        assert len(notes) == 1 and "MiniF2F: 28 notes on the published files" in notes[0], err
        assert str(tmp_path / "a" / "run.log") in notes[0]
        log = (tmp_path / "a" / "run.log").read_text()
        details = {line.split(": ", 2)[-1] for line in log.splitlines() if " INFO theoremllama.data.minif2f: " in line}
        assert len(details) == 28
        assert sum("does not match the statement's theorem" in d for d in details) == 14
        assert sum("`sorry` placeholder" in d for d in details) == 13
        err = _run(_argv(server, tmp_path / "b", "--limit", "1", "--verbose"))
    assert all(d in err for d in details)


def test_limit_caps_the_run_at_n_problems_on_every_rerun(tmp_path, capsys):
    with ScriptedOpenAIServer(lambda body: PROOF) as server:
        for _ in range(3):
            assert main(_argv(server, tmp_path, "--limit", "2")) == 0
        assert len(server.requests) == 2  # the reruns asked nothing
    run, attempts = read_attempts(tmp_path / "attempts.jsonl")
    assert len(run.problems) == 2 and len(attempts) == 2
    assert capsys.readouterr().out.count("2/2 solved") == 3
