"""The problem file format and its converters, on the shipped benchmarks and on .lean files
written for these tests (tests/data/lean_problems/: every shape a benchmark folder has)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from theoremllama.data.problems import MINIF2F_HEADER, convert, read_problems, write_problems
from theoremllama.data.records import Problem
from theoremllama.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
LEAN = Path(__file__).parent / "lean_problems"


def test_minif2f_jsonl_converts_all_488_like_the_minif2f_loader():
    from theoremllama.data.minif2f import load_minif2f

    result = convert(DATA / "minif2f" / "minif2f.jsonl")
    assert len(result.problems) == 488 and result.skipped == [] and result.notes == []
    assert sum(p.split == "valid" for p in result.problems) == 244
    loaded = load_minif2f("valid")
    ours = {p.name: p for p in convert(DATA / "minif2f" / "minif2f.jsonl", split="valid").problems}
    assert list(ours) == [p.name for p in loaded]
    for p in loaded:
        q = ours[p.name]
        assert q.header == p.header and q.formal_statement.endswith(":= by")
        assert q.formal_statement.startswith(p.formal_statement)  # the loader drops the trailing `by`
        assert q.informal_statement and q.context == ""


def test_proofnet_371_rows_are_all_accounted_for():
    result = convert(DATA / "proofnet" / "proofnet.jsonl")
    # 14 rows are `def`s (data to construct): skipped, each with its line and the reason.
    assert len(result.problems) + len(result.skipped) == 371
    assert len(result.problems) == 357 and len(result.skipped) == 14
    assert all(s.startswith(f"{DATA / 'proofnet' / 'proofnet.jsonl'}:") and "a definition" in s
               for s in result.skipped)
    assert "proofnet.jsonl:76: exercise_2_1_21: a definition" in result.skipped[0]
    # 349 distinct names for 371 problems: the same exercise number in different textbooks.
    names = [p.name for p in result.problems]
    assert len(set(names)) == len(names)
    renamed = [p for p in result.problems if "__" in p.name]
    assert len(renamed) == len(result.notes) == 22
    first = next(p for p in result.problems if p.name == "exercise_3_3")
    second = next(p for p in result.problems if p.name == "exercise_3_3__2")
    assert first.header != second.header and second.formal_statement.startswith("theorem exercise_3_3")
    assert all(p.informal_proof == "" and p.informal_statement for p in result.problems)
    # The shipped problem file is exactly this conversion.
    assert [p.to_dict() for p in read_problems(DATA / "proofnet" / "problems.jsonl")] == \
           [p.to_dict() for p in result.problems]
    # A split keeps the names the whole file gives.
    valid = convert(DATA / "proofnet" / "proofnet.jsonl", split="valid").problems
    assert {p.name for p in valid} <= set(names) and {p.split for p in valid} == {"valid"}
    assert len(valid) == 185 - sum(1 for s in result.skipped if _split_of_line(s) == "valid")


def _split_of_line(skipped: str) -> str:
    line = int(skipped.split(":")[1])
    return json.loads((DATA / "proofnet" / "proofnet.jsonl").read_text().splitlines()[line - 1])["split"]


def test_theoremllama_json_converts_with_the_minif2f_header():
    result = convert(DATA / "theoremllama_eval" / "MiniF2F_test_Lean4.json", split="test")
    assert len(result.problems) == 244 and result.skipped == []
    p = result.problems[0]
    assert p.header == MINIF2F_HEADER and p.split == "test" and p.formal_statement.endswith(":=")
    assert p.informal_statement and p.informal_proof
    assert all(p.reference_proof == "" or "sorry" not in p.reference_proof for p in result.problems)


def test_a_folder_of_lean_files_one_problem_each_and_every_failure_reported():
    result = convert(LEAN, split="putnam")
    by_name = {p.name: p for p in result.problems}
    assert sorted(by_name) == ["Imo1959P1.imo1959_p1", "putnam_like", "sum_ten"]
    assert sorted(result.skipped) == [
        "no_theorem.lean: no theorem in the file",
        "two_theorems.lean: 2 theorems (helper, main_result): one problem per file expected",
        "unknown_answer.lean: find_it: `hidden_answer` is defined as `sorry` and no answer is given "
        "(a comment on the next line): it cannot be checked as given code",
    ]
    s = by_name["sum_ten"]  # docstring, answer abbrev, several `open`, statement over lines
    assert s.split == "putnam"
    assert s.header == "import Mathlib\nimport Aesop\n\nopen Real Nat\nopen Finset\n"
    assert s.context == ("/-- The answer: the sum of the first ten positive integers. -/\n"
                         "abbrev sum_ten_answer : ℕ := 55\n")
    assert s.informal_statement == "Show that $1 + 2 + \\dots + 10$ is `sum_ten_answer`."
    assert s.formal_statement == ("theorem sum_ten\n    (s : ℕ)\n    (hs : s = ∑ i in Finset.range 11, i) :\n"
                                  "    s = sum_ten_answer :=")
    putnam = by_name["putnam_like"]  # PutnamBench's layout: the answer in a comment after `:= sorry`
    assert putnam.context == "abbrev putnam_like_solution : Set ℕ :=\n  {n : ℕ | 0 < n ∧ n % 2 = 0}\n"
    assert result.notes == ["putnam_style.lean: putnam_like: `putnam_like_solution` := sorry filled with "
                            "the answer given in the comment: {n : ℕ | 0 < n ∧ n % 2 = 0}"]
    ns = by_name["Imo1959P1.imo1959_p1"]  # namespace ... end: the theorem named in full, namespace closed
    assert ns.formal_statement.startswith("theorem Imo1959P1.imo1959_p1 (n : ℕ)")
    assert ns.context.startswith("namespace Imo1959P1\n") and ns.context.endswith("end Imo1959P1\n")
    assert "def frac" in ns.context and ns.header == "import Mathlib\nopen BigOperators\n"


def test_converted_context_checks_as_the_statement_side(tmp_path):
    """The converted problems prepare into jobs whose context sits before the statement and
    whose name is the theorem's (never a definition of the context)."""
    from theoremllama.lean.job import VerifyJob, prepare_job

    for p in convert(LEAN).problems:
        job = prepare_job(VerifyJob(id=p.name, statement=p.formal_statement, proof="by\n  norm_num",
                                    header=p.header, context=p.context))
        assert job.name == p.name
        assert job.body.startswith(p.context) and job.body.endswith(":= by\n  norm_num")
        assert job.violations == ()


def test_read_problems_names_the_bad_line_and_field(tmp_path):
    good = Problem(name="a", split="test", header="import Mathlib\n", formal_statement="theorem a : True :=")
    path = tmp_path / "p.jsonl"
    write_problems([good], path)
    assert read_problems(path) == [good]
    bad = dict(good.to_dict(), name="b", formal_statement="theorem b : True")
    path.write_text(json.dumps(good.to_dict()) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError) as e:
        read_problems(path)
    assert (e.value.line, e.value.field) == (2, "formal_statement") and "':='" in str(e.value)
    path.write_text(json.dumps(good.to_dict()) + "\n" + json.dumps(good.to_dict()) + "\n")
    with pytest.raises(InputError, match="already defined on line 1"):
        read_problems(path)
    path.write_text(json.dumps(dict(good.to_dict(), context=3)) + "\n")
    with pytest.raises(InputError) as e:
        read_problems(path)
    assert (e.value.line, e.value.field) == (1, "context")


def test_cli_writes_the_problem_file_and_lists_what_it_skipped(tmp_path):
    out = tmp_path / "lean.jsonl"
    proc = subprocess.run([sys.executable, "-m", "theoremllama.cli", "data", "problems", str(LEAN), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 3 problems" in proc.stdout and "3 skipped" in proc.stdout
    assert proc.stderr.count("skipped: ") == 3 and "two_theorems.lean" in proc.stderr
    assert [p.name for p in read_problems(out)] == ["sum_ten", "putnam_like", "Imo1959P1.imo1959_p1"]
    proc = subprocess.run([sys.executable, "-m", "theoremllama.cli", "data", "problems", str(tmp_path / "none"),
                           "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr and "Traceback" not in proc.stderr
