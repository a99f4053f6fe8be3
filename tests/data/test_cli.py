"""`theoremllama data convert | dedup | split | stats` end to end, in-process."""

import json
from pathlib import Path

from theoremllama.cli import main
from theoremllama.data.formats import read_records
from theoremllama.data.jsonl import read_jsonl
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


def test_convert_to_a_parquet_file_is_atomic_and_reads_back(tmp_path):
    out = tmp_path / "bank.parquet"
    assert main(["data", "convert", str(BANK), "--obt", "-o", str(out)]) == 0
    published = json.loads(BANK.read_text(encoding="utf-8"))
    assert [r.Name for r in read_records(out, OBTRecord)] == [d["Name"] for d in published]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.parquet"]  # no temporary file left


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


EXAMPLES = data_root() / "examples" / "minif2f_valid_commented.jsonl"
# Distinct theorems the published names hide: their cut-off `Name` equals another record's.
HIDDEN = {"amc12a_2009_p25", "mathd_algebra_15", "mathd_algebra_43", "mathd_algebra_437", "mathd_algebra_480",
          "mathd_algebra_482", "mathd_numbertheory_30", "mathd_numbertheory_458"}


def _declared(statement):
    from theoremllama.data.minif2f import declared_name

    return declared_name(statement)


def test_dedup_of_the_shipped_files_keeps_every_distinct_theorem(tmp_path, capsys):
    published = json.loads(BANK.read_text(encoding="utf-8"))
    theorems = {_declared(d["Statement"]) for d in published}
    assert len(theorems) == 100 and HIDDEN <= theorems
    for src in (BANK, EXAMPLES):
        out = tmp_path / f"{src.stem}.dedup.jsonl"
        assert main(["data", "dedup", str(src), "-o", str(out)]) == 0
        printed = capsys.readouterr().out
        kept = list(read_jsonl(out))
        assert {_declared(r.get("Statement", r.get("statement"))) for r in kept} == theorems
        assert len(kept) == 100 and "dropped 6 (duplicate name: 6" in printed
        assert "13 of 106 records hold sorry" in printed
    # the seed file's kept records carry the corrected names
    assert {r["Name"] for r in read_jsonl(tmp_path / f"{BANK.stem}.dedup.jsonl")} == theorems
    # without the placeholders: 93 proofs of 88 theorems
    assert main(["data", "dedup", str(BANK), "-o", str(tmp_path / "proved.jsonl"), "--sorry", "drop"]) == 0
    kept = list(read_jsonl(tmp_path / "proved.jsonl"))
    assert len(kept) == 88 and not any("sorry" in r["Proof"] for r in kept)
    assert "sorry (drop): kept 93, dropped 13" in capsys.readouterr().out


def test_sorry_flag_in_extract_stats_convert_and_split(tmp_path, capsys):
    shapes = Path(__file__).parent / "lean_samples" / "Shapes"
    out = tmp_path / "all.jsonl"
    assert main(["data", "extract", "--repo", str(shapes), "-o", str(out)]) == 0
    assert "sorry: 6 of 20 records hold sorry" in capsys.readouterr().out
    rows = list(read_jsonl(out))
    assert sum(r["has_sorry"] for r in rows) == 6
    assert main(["data", "stats", str(out)]) == 0
    assert "with sorry: 6 (1 in the statement)" in capsys.readouterr().out
    assert main(["data", "extract", "--repo", str(shapes), "-o", str(tmp_path / "gaps.jsonl"), "--sorry", "only"]) == 0
    assert {r["name"] for r in read_jsonl(tmp_path / "gaps.jsonl")} == {
        "Gaps.open_problem", "Gaps.tactic_sorry", "Gaps.term_sorry", "Gaps.admitted", "Gaps.axiom_of_sorry",
        "Gaps.stopped"}
    # a file whose stored flag lies is judged by its code
    rows[0]["has_sorry"] = False
    (tmp_path / "lying.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["data", "convert", str(tmp_path / "lying.jsonl"), "-o", str(tmp_path / "c.jsonl"), "--sorry", "drop"]) == 0
    assert len(list(read_jsonl(tmp_path / "c.jsonl"))) == 14
    assert main(["data", "split", str(out), "-o", str(tmp_path / "sp"), "--sorry", "drop"]) == 0
    split = list(read_jsonl(tmp_path / "sp" / "train.jsonl")) + list(read_jsonl(tmp_path / "sp" / "valid.jsonl"))
    assert len(split) == 14 and not any(r["has_sorry"] for r in split)


def test_dedup_of_records_without_a_name_or_with_a_wrong_type_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"statement": "theorem a : True :=", "proof": "trivial"}\n')
    assert main(["data", "dedup", str(bad), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "no name field" in capsys.readouterr().err
    bad.write_text('{"name": "a", "statement": 3, "proof": "trivial"}\n')
    assert main(["data", "dedup", str(bad), "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"theoremllama data: error: {bad}: record 1: field 'statement': expected a string, got int ('3')"
