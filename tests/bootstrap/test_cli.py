"""`theoremllama bootstrap` from the command line: config errors are one line and exit 2;
overrides reach the job; the final summary is printed."""

import json

import yaml

from support.openai_server import ScriptedOpenAIServer
from theoremllama.cli import main


def test_bad_config_is_one_line_exit_2(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"input": "x.jsonl", "output": str(tmp_path / "o"),
                                   "llm": {"backend": "openai", "model": "m"}, "informalize": {"retires": 2}}))
    assert main(["bootstrap", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "informalize.retires: unknown config key" in err[0]
    assert main(["bootstrap", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err
    (tmp_path / "in.jsonl").write_text('{"Name": "a", "Statement": "theorem a : True :=", "Proof": "theorem a : True := trivial"}\n')
    cfg.write_text(yaml.safe_dump({"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "o"),
                                   "examples": {"encoder": None},
                                   "llm": {"backend": "openai", "model": "m", "temprature": 0.5}}))
    assert main(["bootstrap", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "llm:" in err[0] and "temprature" in err[0]


def test_bad_input_names_file_and_line(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"Name": "a", "Statement": "theorem a : True :=", "Proof": "theorem a : True := trivial"}\n'
                                       '{"Name": "b", "Statement": 3, "Proof": "x"}\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "o"),
                                   "llm": {"backend": "openai", "model": "m"}}))
    assert main(["bootstrap", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "in.jsonl:2: field 'Statement'" in err and "Traceback" not in err


def test_overrides_and_summary(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text(json.dumps({"name": "t", "statement": "theorem t : 1 = 1 :=",
                                                   "proof": "theorem t : 1 = 1 := by\n  rfl"}) + "\n")
    with ScriptedOpenAIServer(lambda body: "I cannot do that.") as server:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(yaml.safe_dump({"input": "nowhere.jsonl", "output": "nowhere",
                                       "llm": {"backend": "openai", "model": "m", "base_url": server.base_url}}))
        code = main(["bootstrap", "--config", str(cfg), "--input", str(tmp_path / "in.jsonl"),
                     "--output", str(tmp_path / "out"), "--set", "informalize.retries=2",
                     "--set", "examples.encoder=null", "--no-progress"])
        assert code == 0 and len(server.requests) == 2
    err = capsys.readouterr().err
    assert "0 accepted, 1 rejected" in err and '"informalize/refusal": 1' in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rejected"] == {"informalize/refusal": 1} and summary["attempt_failures"] == {"informalize/refusal": 2}


def test_server_down_is_one_clear_line(tmp_path, capsys):
    from support.openai_server import Fault

    (tmp_path / "in.jsonl").write_text(json.dumps({"name": "t", "statement": "theorem t : 1 = 1 :=",
                                                   "proof": "theorem t : 1 = 1 := by\n  rfl"}) + "\n")
    with ScriptedOpenAIServer(lambda body: Fault(status=503)) as server:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(yaml.safe_dump({
            "input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out"), "examples": {"encoder": None},
            "llm": {"backend": "openai", "model": "m", "base_url": server.base_url, "max_retries": 1,
                    "backoff_base": 0.01}}))
        assert main(["bootstrap", "--config", str(cfg), "--no-progress"]) == 2
        assert len(server.requests) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no valid reply after 2 attempts" in err[0] and "HTTP 503" in err[0]
    # nothing was recorded as rejected: a rerun tries the theorem again
    assert (tmp_path / "out" / "rejections.jsonl").read_text() == ""
