"""Evaluation problems never enter training data: `iterate` refuses, before anything runs, a
training problem set or base data sharing a name or a normalised statement with the held-out set."""

from __future__ import annotations

import json

import pytest
import yaml

from support.learning import BASE_ROWS, ROOT, problem, write_jsonl
from theoremllama.cli import main
from theoremllama.errors import UserError
from theoremllama.learn.problems import HeldOut, statement_key


def _minif2f(split: str, k: int = 0) -> dict:
    rows = [json.loads(line) for line in (ROOT / "data" / "minif2f" / "minif2f.jsonl").read_text().splitlines()]
    return [r for r in rows if r["split"] == split][k]


def _run_iterate(tmp_path, capsys, problems: list[dict], **extra) -> tuple[int, str]:
    cfg = {"problems": str(write_jsonl(tmp_path / "problems.jsonl", problems)),
           "output_dir": str(tmp_path / "run"), "llm": {"backend": "openai", "model": "m",
                                                       "base_url": "http://127.0.0.1:9/v1"},
           "train": {"recipe": str(ROOT / "train" / "tiny_cpu.yaml")}, **extra}
    (tmp_path / "it.yaml").write_text(yaml.safe_dump(cfg))
    code = main(["iterate", "--config", str(tmp_path / "it.yaml"), "--no-progress"])
    return code, capsys.readouterr().err


def test_a_minif2f_name_is_refused_with_one_line(tmp_path, capsys):
    leaked = problem(_minif2f("valid")["name"], 3)  # same name, another statement
    code, err = _run_iterate(tmp_path, capsys, [problem("ok_1", 1), leaked])
    assert code == 2 and err.count("\n") == 1
    assert f"'{leaked['name']}' is held out by name (minif2f:valid)" in err and "1 record(s)" in err
    assert not (tmp_path / "run" / "round-0").exists()  # nothing ran


def test_a_renamed_minif2f_statement_is_refused(tmp_path, capsys):
    row = _minif2f("test", 5)
    renamed = dict(problem("innocent", 1), formal_statement=row["formal_statement"].replace(
        row["name"], "innocent", 1).replace("  ", "   "))  # other name, other spacing
    code, err = _run_iterate(tmp_path, capsys, [renamed])
    assert code == 2 and f"'innocent' has the statement of held-out '{row['name']}' (minif2f:test)" in err


def test_base_data_overlapping_a_held_out_file_is_refused(tmp_path, capsys):
    held = write_jsonl(tmp_path / "held.jsonl", [problem("secret", 9)])
    base = dict(BASE_ROWS[0], Name="copied", Statement="theorem copied (x : ℕ) (h : x = 9) : x + x = 18 :=")
    code, err = _run_iterate(tmp_path, capsys, [problem("ok_1", 1)],
                             base_data=str(write_jsonl(tmp_path / "base.jsonl", [base])),
                             heldout=[str(held)])
    assert code == 2 and "config key 'base_data'" in err and "held-out 'secret'" in err


def test_clean_sets_pass_and_keys_ignore_name_comments_and_by():
    held = HeldOut.load(["minif2f:valid", "minif2f:test"])
    assert len(held) == 488
    held.refuse_overlap([problem("ok_1", 1), problem("ok_2", 2)], what="x")  # no overlap: no error
    assert statement_key("theorem a (x : ℕ) : x = x := by\n") == statement_key("lemma b (x : ℕ) :\n  -- c\n  x = x :=")
    assert statement_key("theorem a (x : ℕ) : x = x :=") != statement_key("theorem a (x : ℤ) : x = x :=")
    with pytest.raises(UserError, match="unknown MiniF2F split"):
        HeldOut.load(["minif2f:train"])
