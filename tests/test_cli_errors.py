"""Where the README promises one clear line (exit code 2), never a traceback: binary files given to
every reader, a directory for a file, the project's own files, options of another LLM backend, a
mistyped local model path. Each case runs the command as a user would (`main(argv)`, and a real
subprocess for the slow-failure cases)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from theoremllama.cli import main

ROOT = Path(__file__).resolve().parents[1]
BINARY = bytes(range(255, 127, -1)) * 8  # no byte of it starts a valid UTF-8 sequence here


def _one_line(capsys, code, *expected):
    captured = capsys.readouterr()
    err = [line for line in captured.err.splitlines() if "error:" in line]
    assert code == 2, captured.err
    assert len(err) == 1 and "Traceback" not in captured.err, captured.err
    for text in expected:
        assert text in err[0], err[0]
    return err[0]


@pytest.fixture
def binary(tmp_path):
    def make(name, first_line=b""):
        path = tmp_path / name
        path.write_bytes(first_line + BINARY)
        return str(path)
    return make


@pytest.mark.parametrize("argv", [
    ["verify", "{jsonl}", "-o", "{out}"],
    ["data", "stats", "{jsonl}"],
    ["data", "convert", "{json}", "-o", "{out}"],
    ["data", "dedup", "{jsonl}", "-o", "{out}"],
    ["data", "split", "{jsonl}", "-o", "{dir}"],
    ["report", "{jsonl}"],
    ["eval", "--config", "{yaml}"],
    ["train", "--config", "{yaml}"],
    ["bootstrap", "--config", "{yaml}"],
])
def test_a_binary_input_file_is_one_line_naming_it(argv, binary, tmp_path, capsys):
    files = {"jsonl": binary("in.jsonl"), "json": binary("in.json"), "yaml": binary("c.yaml"),
             "out": str(tmp_path / "out.jsonl"), "dir": str(tmp_path / "split")}
    line = _one_line(capsys, main([a.format(**files) for a in argv]))
    assert "not UTF-8" in line and ("in.json" in line or "c.yaml" in line)


def test_binary_training_data_and_bootstrap_input(binary, tmp_path, capsys):
    data = binary("obt.jsonl", first_line=b'{"Name": "a", "Statement": "theorem a : True :=", "Proof": "trivial"}\n')
    cfg = tmp_path / "b.yaml"
    cfg.write_text(yaml.safe_dump({"input": data, "output": str(tmp_path / "o"),
                                   "llm": {"backend": "openai", "model": "m"}}))
    _one_line(capsys, main(["bootstrap", "--config", str(cfg)]), "obt.jsonl:2", "not UTF-8")
    train = yaml.safe_load((ROOT / "train" / "tiny_cpu.yaml").read_text())
    train.update(data=data, tokenizer=str(tmp_path), deepspeed=None, output_dir=str(tmp_path / "t"))
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(train))
    code = main(["train", "--config", str(tmp_path / "t.yaml")])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err


def test_an_existing_binary_verdicts_file_is_one_line(binary, capsys):
    out = binary("verdicts.jsonl")
    _one_line(capsys, main(["verify", str(ROOT / "data/examples/minif2f_valid_commented.jsonl"), "-o", out]),
              "verdicts.jsonl:", "not UTF-8", "right -o")


def test_verify_into_a_directory_says_so(tmp_path, capsys):
    line = _one_line(capsys, main(["verify", str(ROOT / "data/examples/minif2f_valid_commented.jsonl"),
                                   "-o", str(tmp_path)]), "is a directory")
    assert "verdicts.jsonl" in line  # what to give instead


def test_dedup_of_the_projects_own_file_is_no_traceback(tmp_path, capsys):
    code = main(["data", "dedup", str(ROOT / "data/examples/minif2f_valid_commented.jsonl"),
                 "-o", str(tmp_path / "out.jsonl")])
    assert code in (0, 2) and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["hf", "vllm"])
def test_eval_with_another_backend_drops_the_openai_keys_with_a_note(backend, tmp_path, capsys):
    code = main(["eval", "--config", str(ROOT / "eval/smoke.yaml"), "--no-progress", "--output-dir", str(tmp_path),
                 "--set", f"llm.backend={backend}", "--set", "llm.model=./no/such/checkpoint"])
    line = _one_line(capsys, code, "./no/such/checkpoint: no such directory")
    assert "base_url" not in line


def test_the_note_names_the_dropped_keys(tmp_path, capsys):
    main(["eval", "--config", str(ROOT / "eval/smoke.yaml"), "--no-progress", "--output-dir", str(tmp_path),
          "--set", "llm.backend=hf", "--set", "llm.model=./missing"])
    err = capsys.readouterr().err
    assert "not options of the hf backend, ignored: llm.base_url" in err and "unexpected keyword" not in err


def test_a_key_no_backend_takes_is_named(tmp_path, capsys):
    _one_line(capsys, main(["eval", "--config", str(ROOT / "eval/smoke.yaml"), "--no-progress",
                            "--output-dir", str(tmp_path), "--set", "llm.temprature=0.5"]),
              "'temprature' is not an option of the openai backend")


@pytest.mark.parametrize("key", ["tokenizer", "model.name_or_path"])
def test_a_mistyped_local_model_path_fails_at_once(key, tmp_path):
    """A real process, as a user runs it: no minute of hub retries before the error."""
    cfg = yaml.safe_load((ROOT / "train" / "tiny_cpu.yaml").read_text())
    cfg.update(deepspeed=None, output_dir=str(tmp_path / "out"), tokenizer=str(tmp_path))
    if key == "tokenizer":
        cfg["tokenizer"] = "runs/tiny_tokenzier/"
    else:
        cfg["model"] = {"name_or_path": "./checkpoints/fianl"}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "theoremllama.cli", "train", "--config", str(tmp_path / "c.yaml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert time.monotonic() - start < 30
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"'{key}'" in proc.stderr and "no such directory" in proc.stderr


def test_eval_and_bootstrap_hints_name_their_own_config_keys(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("THEOREMLLAMA_REPL_CMD", raising=False)
    (tmp_path / "lakefile.lean").write_text("-- a Lake project without a built REPL\n")
    line = _one_line(capsys, main(["eval", "--config", str(ROOT / "eval/smoke.yaml"), "--no-progress",
                                   "--output-dir", str(tmp_path / "e"),
                                   "--set", f"verifier.lean_project={tmp_path}"]),
                     "--set verifier.repl_cmd=CMD")
    assert "--repl-cmd" not in line
    line = _one_line(capsys, main(["eval", "--config", str(ROOT / "eval/smoke.yaml"), "--no-progress",
                                   "--output-dir", str(tmp_path / "f"), "--set", "verifier.repl_cmd=/no/repl"]),
                     "verifier.repl_cmd", "/no/repl")
    assert "--repl-cmd" not in line
    (tmp_path / "in.jsonl").write_text('{"Name": "a", "Statement": "theorem a : True :=", '
                                       '"Proof": "theorem a : True := trivial"}\n')
    cfg = tmp_path / "b.yaml"
    cfg.write_text(yaml.safe_dump({"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "o"),
                                   "examples": {"encoder": None},
                                   "llm": {"backend": "openai", "model": "m"}}))
    line = _one_line(capsys, main(["bootstrap", "--config", str(cfg), "--verify", "--set", "verify.repl_cmd=[/no/repl]"]),
                     "verify.repl_cmd (--set verify.repl_cmd=...)", "/no/repl", "not found")
    assert "--repl-cmd" not in line


def test_output_piped_into_a_reader_that_leaves_is_not_a_traceback(tmp_path):
    """`theoremllama data stats FILE | head -1`: the reader closes the pipe early."""
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[1] / "data" / "examples" / "minif2f_valid_commented.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "theoremllama.cli", "data", "stats", str(src)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written (as `head` after its lines)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
