"""`theoremllama serve` and `theoremllama verify --verifier-url / --ray` as a user runs them
(subprocesses); the Lean REPL is the test double (tests/support/fake_lean_repl.py, via --repl-cmd)."""

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from support.served import free_port

ROOT = Path(__file__).resolve().parents[2]
DOUBLE_CMD = shlex.join([sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")])


def cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "theoremllama.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def records(n):
    return [{"id": f"t{i}", "formal_statement": f"theorem t{i} (x : ℕ) : x + 0 = x := by\n",
             "proof": "  simp" if i % 4 else "  double_error", "header": "import Mathlib\n"} for i in range(n)]


def test_serve_then_verify_through_it_with_a_key_and_resume(tmp_path):
    port = free_port()
    env = {**os.environ, "THEOREMLLAMA_API_KEY": "k-123"}
    server = subprocess.Popen([sys.executable, "-m", "theoremllama.cli", "serve", "--repl-cmd", DOUBLE_CMD,
                               "--workers", "2", "--timeout", "10", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).json()["workers"] == 2:
                    break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert requests.post(f"{url}/verify", json={"jobs": []}, timeout=5).status_code == 401  # key from the env
        inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records(8)))
        done = cli("verify", inp, "-o", out, "--verifier-url", url, "--no-progress", env=env)
        assert done.returncode == 0, done.stderr
        got = [json.loads(x) for x in out.read_text().splitlines()]
        assert [v["id"] for v in got] == [f"t{i}" for i in range(8)]
        assert [v["reason"] for v in got] == ["error" if i % 4 == 0 else "ok" for i in range(8)]
        # resume: two more records, only those are sent
        inp.write_text("".join(json.dumps(r) + "\n" for r in records(10)))
        again = cli("verify", inp, "-o", out, "--verifier-url", url, "--no-progress", env=env)
        assert again.returncode == 0 and "8 already in" in again.stderr and "2 to check" in again.stderr
        assert len(out.read_text().splitlines()) == 10
        assert requests.get(f"{url}/health", timeout=5).json()["verified"] == 10
        # a pool option given to a client of a server is reported as not applied, not silently dropped
        warned = cli("verify", inp, "-o", tmp_path / "o2.jsonl", "--verifier-url", url, "--timeout", "5",
                     "--no-progress", env=env)
        assert warned.returncode == 0 and "not timeout given here" in warned.stderr
        assert "its own pool options" not in done.stderr  # defaults are not reported
        bad = cli("verify", inp, "-o", tmp_path / "o3.jsonl", "--verifier-url", url, "--no-progress",
                  env={**env, "THEOREMLLAMA_API_KEY": "wrong"})
        assert bad.returncode == 2 and "401" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ray_flag_without_ray_says_how_to_install_it(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(records(1)[0]) + "\n")
    hide_ray = tmp_path / "noray"
    hide_ray.mkdir()
    (hide_ray / "ray.py").write_text("raise ImportError('No module named ray')\n")  # as if not installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hide_ray), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = cli("verify", inp, "-o", tmp_path / "out.jsonl", "--ray", "--repl-cmd", DOUBLE_CMD, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("Ray is not installed: pip install 'theoremllama[ray]'")


def test_ray_address_where_nothing_answers_fails_fast_in_one_line(tmp_path):
    """`ray.init` retries an address nobody listens on for many minutes: say so at once."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(records(1)[0]) + "\n")
    start = time.monotonic()
    done = cli("verify", inp, "-o", tmp_path / "out.jsonl", "--ray", f"127.0.0.1:{port}", "--repl-cmd", DOUBLE_CMD)
    assert time.monotonic() - start < 60
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot connect to the Ray cluster at '127.0.0.1:{port}': nothing answers there" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()
