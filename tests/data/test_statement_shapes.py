"""Where a declaration's statement ends, and whether its proof is one: the shapes of
`lean_samples/Shapes/` (written for these tests after the forms real repositories use: Mathlib and
Batteries put `let`/`have`/`haveI` inside types, formal-conjectures states open problems as
`... ↔ answer(sorry)` with a `sorry` proof).

One finder (`theoremllama.lean.syntax.statement_end`) serves the extractor, job preparation and
proof extraction; each is checked on every shape."""

from pathlib import Path

import pytest

from theoremllama.data.extract import extract_repo
from theoremllama.eval.extract import extract_proof
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.syntax import has_sorry, mask, statement_end

SHAPES = Path(__file__).parent / "lean_samples" / "Shapes"

# name -> the statement as the extractor must cut it (the declaration up to its own `:=`)
STATEMENTS = {
    "Shapes.let_in_type": "theorem let_in_type (n : Nat) : let m := n + 1; m = n + 1 :=",
    "Shapes.nested_lets": "theorem nested_lets : let a := 1; let b := a + a; b = 2 :=",
    "Shapes.have_in_type": "theorem have_in_type (xs : List Nat) (h : 0 < xs.length) :\n"
                           "    have hne : xs ≠ [] := List.ne_nil_of_length_pos h\n    xs.head hne ∈ xs :=",
    "Shapes.haveI_in_type": "theorem haveI_in_type (i : Nat) (xs : Array Nat) (h : i < xs.size) :\n"
                            "    haveI : i < xs.toList.length := by simpa using h\n    xs.toList[i] = xs[i] :=",
    "Shapes.letI_in_type": "theorem letI_in_type :\n    letI inst : Add Nat := ⟨Nat.mul⟩\n    (2 : Nat) + 3 = 6 :=",
    "Shapes.default_argument": "theorem default_argument (n : Nat) (k : Nat := 2) : n + k = k + n :=",
    "Shapes.structure_instance": "theorem structure_instance : ({ fst := 1, snd := 2 } : Nat × Nat).fst = 1 :=",
    "Shapes.fun_then_let": "theorem fun_then_let : ∀ f : Nat → Nat, f = fun x => let y := f x; y :=",
    "Shapes.by_alternatives": "theorem by_alternatives : ∀ n : Nat, n + 0 = n",
    "Shapes.match_in_type": "theorem match_in_type (n : Nat) :\n    match n with\n    | 0 => True\n"
                            "    | _ + 1 => True :=",
    "Shapes.abs_lines": "theorem abs_lines (a b : Int) :\n    |a - b| = |b - a| :=",
}
SORRY = {"Gaps.open_problem", "Gaps.tactic_sorry", "Gaps.term_sorry", "Gaps.admitted",
         "Gaps.axiom_of_sorry", "Gaps.stopped"}
NOT_SORRY = {"Gaps.only_words", "Gaps.stop_is_a_name", "Gaps.sorry_lemma_used"}


@pytest.fixture(scope="module")
def records():
    result = extract_repo(SHAPES)
    assert not result.skipped
    return {r.name: r for r in result.records}


def test_extractor_cuts_each_statement_at_its_own_assign(records):
    assert {n: records[n].statement for n in STATEMENTS} == STATEMENTS
    for name, statement in STATEMENTS.items():
        assert records[name].proof.startswith(statement)


@pytest.mark.parametrize("name", [n for n, s in STATEMENTS.items() if s.endswith(":=")])
def test_job_preparation_accepts_a_statement_without_its_assign(records, name):
    """A statement given without its trailing `:=` gets one; an inner `:=` is not taken for a proof."""
    statement = STATEMENTS[name][:-2].rstrip()
    proof = records[name].proof[len(STATEMENTS[name]):].strip()
    job = prepare_job(VerifyJob(name, statement, proof))
    assert job.statement == statement + " :=" and job.body == f"{statement} := {proof}"


@pytest.mark.parametrize("name", [n for n, s in STATEMENTS.items() if s.endswith(":=")])
def test_proof_extraction_takes_what_follows_the_declarations_assign(records, name):
    proof = records[name].proof[len(STATEMENTS[name]):].strip()
    completion = f"Here it is:\n```lean4\n{records[name].proof}\n```\n"
    assert extract_proof(completion) == proof


def test_statement_end_tokens():
    def end(code):
        found = statement_end(mask(code), code.index(" ", code.index("theorem ") + 8))
        return None if found is None else (code[found.at:found.at + len(found.token)], found.at)

    assert end("theorem t : P :=") == (":=", 14)
    assert end("theorem t : P\n  | 0 => rfl") == ("|", 16)
    assert end("theorem t : P := foo\nwhere foo := 1") == (":=", 14)
    assert end("theorem t : P\nwhere foo := 1")[0] == "where"
    assert end("theorem t : let x := 1; P") is None  # the type's own `:=` only: no proof
    assert end("theorem t : Id.run (do let x ← f; pure x) = 1 := rfl")[0] == ":="
    code = "theorem t (h : (have u := 1; u) = 1) : P := h"
    assert end(code) == (":=", code.rindex(":="))
    code = "theorem t (x : Nat := by have : True\n  exact 0) : P\n  | _ => h"  # a tactic `have` with no `:=`
    assert end(code) == ("|", code.rindex("|"))
    code = "theorem t : Id.run do\n    let x ← pure 1\n    return x == 1 := rfl"  # `←` takes the place of `:=`
    assert end(code) == (":=", code.rindex(":="))
    code = 'theorem t : "a := b" = s := rfl'
    assert end(code) == (":=", code.rindex(":="))  # a `:=` in a string is not one


def test_sorry_flag_on_extracted_records(records):
    flagged = {n for n, r in records.items() if r.has_sorry}
    assert flagged == SORRY
    assert NOT_SORRY <= set(records) and not flagged & set(STATEMENTS)
    assert has_sorry(records["Gaps.open_problem"].statement)  # `answer(sorry)` in the statement


@pytest.mark.parametrize("code, gap", [
    ("by simp; sorry", True), ("by\n  exact (sorry)", True), ("by exact «sorry»", True),
    ("@sorryAx _ false", True), ("by stop", True), ("by\n  · stop\n  simp", True),
    ("by admit", True), ("-- sorry\nrfl", False), ('by simp [show "sorry" = s from rfl]', False),
    ("/-- sorry -/ rfl", False), ("by exact Foo.sorry", False), ("by exact h.sorry_free", False),
    ("fun stop => stop + 1", False), ("by\n  stop_early\n  rfl", False), ("by exact sorry'", False),
])
def test_has_sorry(code, gap):
    assert has_sorry(code) is gap
