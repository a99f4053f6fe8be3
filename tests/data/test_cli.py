"""`theoremllama data convert | dedup | split | stats` end to end, in-process."""

import json

from theoremllama.cli import main
from theoremllama.data.jsonl import read_jsonl, read_records
from theoremllama.data.minif2f import data_root
from theoremllama.data.records import OBTRecord

BANK = data_root() / "theoremllama_eval" / "MiniF2F_valid_partial_withProof_commented.json"


def test_convert_published_json_to_hf_and_back(tmp_path, capsys):
    assert main(["data", "convert", str(BANK), "--obt", "-o", str(tmp_path / "bank")]) == 0
    assert main(["data", "convert", str(tmp_path / "bank"), "--obt", "-o", str(tmp_path / "bank.jsonl")]) == 0
    recs = read_records(tmp_path / "bank.jsonl", OBTRecord)
    published = json.loads(BANK.read_text(encoding="utf-8"))
    assert [r.Name for r in recs] == [d["Name"] for d in published]  # converted as published, idx added
    assert [r.idx for r in recs] == list(range(len(published)))
    assert main(["data", "stats", str(tmp_path / "bank")]) == 0
    out = capsys.readouterr().out
    assert f"records: {len(published)}" in out and "non-empty Commented_proof: 93" in out


def test_dedup_and_split(tmp_path, capsys):
    rows = [{"name": f"t{i % 8}", "statement": f"theorem t{i % 8} : {i % 6} = {i % 6} :=",
             "proof": f"theorem t{i % 8} : {i % 6} = {i % 6} := rfl" + " " * (i * 10)} for i in range(24)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["data", "dedup", str(src), "-o", str(tmp_path / "clean.jsonl"), "--max-proof-chars", "60"]) == 0
    out = capsys.readouterr().out
    kept = list(read_jsonl(tmp_path / "clean.jsonl"))
    # t6, t7 restate t0, t1 under other names; the proofs of t4, t5 are padded past 60 chars.
    assert [r["name"] for r in kept] == ["t0", "t1", "t2", "t3"]
    assert "duplicate name: 12" in out and "duplicate statement: 6" in out and "proof chars > 60: 2" in out
    assert main(["data", "split", str(src), "-o", str(tmp_path / "sp"), "--valid-fraction", "0.5", "--seed", "1"]) == 0
    train = list(read_jsonl(tmp_path / "sp" / "train.jsonl"))
    valid = list(read_jsonl(tmp_path / "sp" / "valid.jsonl"))
    assert len(train) + len(valid) == 24 and not {r["name"] for r in train} & {r["name"] for r in valid}


def test_bad_input_is_one_line_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"Name": "a", "Statement": "s", "Proof": "p"}\n{"Name": 1, "Statement": "s", "Proof": "p"}\n')
    assert main(["data", "convert", str(bad), "--obt", "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"theoremllama data: error: {bad}:2: field 'Name': expected a string, got int"
    assert not (tmp_path / "o.jsonl").exists()
