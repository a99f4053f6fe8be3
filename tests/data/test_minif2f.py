"""MiniF2F as shipped in data/: the join of the two sources, every mismatch reported."""

import json
import logging

import pytest

from theoremllama.cli import main
from theoremllama.data.formats import read_records
from theoremllama.data.minif2f import data_root, docstring_text, load_example_bank, load_minif2f
from theoremllama.data.records import Problem
from theoremllama.errors import InputError, UserError


@pytest.fixture(scope="module")
def shipped():
    rows = [json.loads(line) for line in (data_root() / "minif2f" / "minif2f.jsonl").open(encoding="utf-8")]
    return {r["name"]: r for r in rows}


def test_valid_split_joins_every_problem(shipped, caplog):
    report = []
    with caplog.at_level(logging.INFO):  # each note at INFO (the run log; --verbose), one warning counts them
        problems = load_minif2f("valid", report=report)
    assert len(problems) == 244 == sum(1 for r in shipped.values() if r["split"] == "valid")
    assert [p.name for p in problems] == [n for n, r in shipped.items() if r["split"] == "valid"]
    for p in problems:
        assert p.formal_statement.endswith(":=") and not p.formal_statement.endswith("by")
        assert shipped[p.name]["formal_statement"].startswith(p.formal_statement)
        assert p.header == shipped[p.name]["header"] and p.informal_statement and p.informal_proof
    # The one valid name that differs between the sources is matched by its statement, and said so.
    assert "valid: imo_2006_p3 (minif2f.jsonl) matched imo_2006_p6 (MiniF2F_valid_Lean4.json) by identical statement" in report
    # The example bank's cut-off names are reported too, and every report line was logged.
    assert any("Name 'mathd_algebra_10' does not match the statement's theorem 'mathd_algebra_101'" in r for r in report)
    assert all(any(line in m for m in caplog.messages) for line in report)
    by_name = {p.name: p for p in problems}
    p = by_name["mathd_algebra_182"]
    assert p.commented_proof.startswith("theorem mathd_algebra_182") and "-- " in p.commented_proof
    assert p.reference_proof.startswith("theorem mathd_algebra_182")
    assert by_name["mathd_algebra_101"].commented_proof  # found under its real name
    assert not any("sorry" in p.reference_proof for p in problems)


def test_test_split_reports_each_unmatched_name():
    report = []
    problems = load_minif2f("test", report=report)
    assert len(problems) == 244
    assert report == [
        "test: numbertheory_notequiv2i2jasqbsqdiv8 (minif2f.jsonl) matched numbertheory_notEquiv2i2jasqbsqdiv8 "
        "(MiniF2F_test_Lean4.json) by case-insensitive name",
        "test: imosl_2007_algebra_p6 (minif2f.jsonl) matched imo_2007_p6 (MiniF2F_test_Lean4.json) by "
        "statement equal up to parentheses and spacing",
    ]
    assert all(p.informal_statement for p in problems)
    assert all(p.informal_proof for p in problems)  # every test problem now has its informal proof


def test_unmatched_names_are_reported_and_kept(tmp_path):
    (tmp_path / "minif2f").mkdir()
    (tmp_path / "theoremllama_eval").mkdir()
    rows = [{"name": n, "split": "test", "header": "import Mathlib\n", "informal_prefix": f"/-- About {n}. -/\n",
             "formal_statement": f"theorem {n} : {i} = {i} := by\n"} for i, n in enumerate(["p1", "p2"])]
    (tmp_path / "minif2f" / "minif2f.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "theoremllama_eval" / "MiniF2F_test_Lean4.json").write_text(json.dumps([
        {"Name": "p1", "Statement": "theorem p1 : 0 = 0 :=", "Proof": "theorem p1 : 0 = 0 := by\n  sorry",
         "Informal_statement": "Zero.", "Informal_proof": "Refl."},
        {"Name": "other", "Statement": "theorem other : 5 = 5 :=", "Proof": "", "Informal_statement": "x",
         "Informal_proof": "y"}]))
    report = []
    problems = load_minif2f("test", root=tmp_path, report=report)
    assert report == [
        "test: p2 (minif2f.jsonl) has no record in MiniF2F_test_Lean4.json: informal statement from the "
        "MiniF2F docstring, no informal proof",
        "test: other (MiniF2F_test_Lean4.json) is not in minif2f.jsonl: not loaded (minif2f.jsonl defines "
        "the problems)"]
    assert [(p.name, p.informal_statement, p.informal_proof, p.reference_proof) for p in problems] == [
        ("p1", "Zero.", "Refl.", ""), ("p2", "About p2.", "", "")]  # a `sorry` proof is no reference
    unmatched = problems[1]
    assert "/--" not in unmatched.informal_statement and "-/" not in unmatched.informal_statement


def test_bad_split_and_bad_data_are_user_errors(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="expected 'valid' or 'test'"):
        load_minif2f("train")
    (tmp_path / "minif2f").mkdir()
    (tmp_path / "minif2f" / "minif2f.jsonl").write_text(
        json.dumps({"name": "a", "split": "valid", "header": "", "formal_statement": "theorem a : True := by\n"}) + "\n"
        + json.dumps({"name": "b", "split": "valid", "header": "", "formal_statement": "theorem b : True"}) + "\n")
    report = []
    with pytest.raises(InputError) as e:
        load_minif2f("valid", root=tmp_path, report=report)
    assert (e.value.line, e.value.field) == (2, "formal_statement")
    assert "MiniF2F_valid_Lean4.json: not found" in report[0]
    monkeypatch.setenv("THEOREMLLAMA_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="THEOREMLLAMA_DATA"):
        load_minif2f("valid")


def test_docstring_text():
    assert docstring_text("/-- Show that $x=1$.\n\nIt is.-/\n") == "Show that $x=1$.\n\nIt is."


def test_example_bank_is_106_obt_records_with_real_names():
    report = []
    bank = load_example_bank(report=report)
    assert len(bank) == 106 and [r.idx for r in bank] == list(range(106))
    valid = {p.name for p in load_minif2f("valid")}
    assert {r.Name for r in bank} <= valid
    for r in bank:
        assert r.Statement.split()[1] == r.Name and r.Proof.startswith(r.Statement.split(":")[0].rstrip()[:10])
        assert r.Generated_informal_statement_and_proof.startswith("Informal statement:\n")
        assert r.File_path and r.Commit
    # The published file's 14 cut-off names are corrected and its 13 `sorry` placeholders reported.
    assert sum("does not match the statement's theorem" in line for line in report) == 14
    assert sum("`sorry` placeholder" in line for line in report) == 13
    assert sum(1 for r in bank if r.Commented_proof) == 93
    proved = load_example_bank(proved_only=True)
    assert len(proved) == 93 and all(r.Commented_proof and "sorry" not in r.Proof for r in proved)
    assert [r.idx for r in proved] != list(range(93))  # idx stays the row of the published file


def test_cli_minif2f_and_stats(tmp_path, capsys):
    out = tmp_path / "problems.jsonl"
    assert main(["data", "minif2f", "--split", "valid", "-o", str(out)]) == 0
    assert "wrote 244 valid problems" in capsys.readouterr().out
    problems = read_records(out, Problem)
    assert problems == load_minif2f("valid")
    assert main(["data", "stats", str(out)]) == 0
    stats = capsys.readouterr().out
    assert "records: 244" in stats and "distinct names: 244" in stats and "split: valid: 244" in stats
