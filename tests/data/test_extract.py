"""Theorem extraction from Lean sources: names, statements, proofs and context, exactly.

The sample project under `lean_samples/Proj` was written for these tests; each file gathers the
constructs real Mathlib files contain (see the comments in the files' content below)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from theoremllama.cli import main
from theoremllama.data.extract import extract_repo, extract_text
from theoremllama.data.formats import read_records
from theoremllama.data.records import TheoremRecord
from theoremllama.errors import UserError

SAMPLES = Path(__file__).parent / "lean_samples" / "Proj"


@pytest.fixture(scope="module")
def by_name():
    result = extract_repo(SAMPLES, commit="c0ffee")
    return {r.name: r for r in result.records}, result


def test_finds_exactly_the_declared_theorems(by_name):
    records, result = by_name
    assert list(records) == [
        "Algebra.Ring.add_zero'", "Algebra.Ring.mul_one'", "Algebra.Ring.secret",
        "Algebra.Ring.in_noncomputable", "rootLevel", "Algebra.Ring.Sub.dotted", "Algebra.in_algebra",
        "top_level",
        "Forms.by_cases_match", "Forms.abs_statement", "Forms.term_mode", "Forms.with_where",
        "Forms.structure_where", "Forms.«weird name»", "Forms.αβ_x₁", "Forms.char_lit", "Forms.autoparam",
        "A.B.scoped_open", "A.B.inner_thm", "A.B.after_inner", "A.only_A", "heavy", "same_line_open",
        "after_all",
    ]
    # Nothing from comments, docstrings or strings ("fake" theorems are in all of them).
    assert not [n for n in records if "fake" in n]
    assert result.skipped == {"def": 1, "instance": 1, "example": 1, "abbrev": 1, "structure": 1,
                              "malformed theorem": 1}
    assert result.files == 3 and result.bytes == sum(p.stat().st_size for p in SAMPLES.rglob("*.lean"))
    assert {r.commit for r in records.values()} == {"c0ffee"}


def test_docstring_attributes_and_modifiers_are_not_part_of_the_statement(by_name):
    records, _ = by_name
    r = records["Algebra.Ring.add_zero'"]
    assert r.statement == "theorem add_zero' (a : α) : a + 0 = a :="
    assert r.proof == "theorem add_zero' (a : α) : a + 0 = a := by\n  simp"  # trailing comment dropped
    assert (r.file_path, r.line, r.kind) == ("Algebra/Basic.lean", 28, "theorem")
    # A multi-line attribute and `protected`:
    r = records["Algebra.Ring.mul_one'"]
    assert r.kind == "lemma"
    assert r.statement == "lemma mul_one' (a : α) :\n    a * 1 = a :="
    assert r.proof == "lemma mul_one' (a : α) :\n    a * 1 = a :=\n  mul_one a"
    # `private`: recorded under the name written in the source.
    assert records["Algebra.Ring.secret"].proof == "theorem secret (a : α) : a = a := rfl"


def test_namespaces_sections_root_and_dotted_names(by_name):
    records, _ = by_name
    assert records["Algebra.Ring.in_noncomputable"].namespace == "Algebra.Ring"  # `noncomputable section`
    assert records["rootLevel"].statement == "theorem _root_.rootLevel : (2 : ℕ) = 2 :="
    assert records["rootLevel"].namespace == "Algebra.Ring"
    assert records["Algebra.Ring.Sub.dotted"].namespace == "Algebra.Ring"
    # `namespace Algebra.Ring` ... `end Ring` leaves `Algebra` open; `end Algebra` closes it.
    assert records["Algebra.in_algebra"].namespace == "Algebra"
    assert records["top_level"].namespace == ""
    # `namespace A.B` ... `end B` ... `end A`
    assert records["A.only_A"].namespace == "A"
    assert records["after_all"].namespace == ""


def test_context_imports_universes_opens_variables(by_name):
    records, _ = by_name
    r = records["Algebra.Ring.add_zero'"]
    assert r.imports == ["Mathlib.Algebra.Group.Basic", "Mathlib.Tactic.Ring"]
    assert r.universes == ["universe u v"]
    assert r.opens == ["open Function"]
    assert r.variables == ["variable {α : Type u} [CommRing α]"]
    # Variables die with their namespace.
    assert records["Algebra.in_algebra"].variables == []
    assert records["top_level"].opens == ["open Function"]  # opened at top level: still in force


def test_opens_and_variables_are_scoped_to_sections(by_name):
    records, _ = by_name
    assert records["A.B.scoped_open"].opens == ["open Nat", "open Real"]  # `open Real in`
    assert records["A.B.scoped_open"].variables == ["variable (n : ℕ)"]
    assert records["A.B.inner_thm"].opens == ["open Nat", "open Finset"]
    assert records["A.B.inner_thm"].variables == ["variable (n : ℕ)", "variable (m : ℕ)"]
    assert records["A.B.after_inner"].opens == ["open Nat"]  # `open Real in` and Inner's opens ended
    assert records["A.B.after_inner"].variables == ["variable (n : ℕ)"]
    assert records["A.only_A"].opens == [] and records["A.only_A"].variables == []
    assert records["same_line_open"].opens == ["open Nat"]  # `open Nat in theorem ...` on one line
    assert records["after_all"].opens == []


def test_set_option_in_before_a_theorem(by_name):
    records, _ = by_name
    r = records["heavy"]
    assert r.statement == "theorem heavy : True :="
    assert r.proof == "theorem heavy : True := by\n  trivial"
    assert r.line == 28


def test_proof_forms(by_name):
    records, _ = by_name
    r = records["Forms.by_cases_match"]  # pattern matching: no `:=`, the `have ... :=` is in the proof
    assert r.statement == "theorem by_cases_match : ∀ n : ℕ, n + 0 = n"
    assert r.proof == ("theorem by_cases_match : ∀ n : ℕ, n + 0 = n\n  | 0 => rfl\n  | n + 1 => by\n"
                       "    have h := by_cases_match n\n    omega")
    assert records["Forms.abs_statement"].statement == "theorem abs_statement (a : ℤ) :\n    |a| = |a| :="
    assert records["Forms.term_mode"].proof.endswith(":=\n  ⟨hp, hq⟩")
    assert records["Forms.with_where"].proof == "theorem with_where : 0 < 2 := aux\nwhere\n  aux : 0 < 2 := by decide"
    r = records["Forms.structure_where"]
    assert r.statement == "theorem structure_where : Equivalence (@Eq ℕ)"
    assert r.proof.endswith("where\n  refl := Eq.refl\n  symm := Eq.symm\n  trans := Eq.trans")
    assert records["Forms.autoparam"].statement == "theorem autoparam (n : ℕ) (h : n = n := by rfl) : True :="


def test_unicode_quoted_names_literals(by_name):
    records, _ = by_name
    assert records["Forms.«weird name»"].statement == "theorem «weird name» : True :="
    assert records["Forms.αβ_x₁"].proof == "theorem αβ_x₁ (x₁ : ℕ) (h' : x₁ = x₁) : x₁ = x₁ := h'"
    assert records["Forms.char_lit"].statement == "theorem char_lit : 'a' = 'a' ∧ '\"' = '\"' :="
    assert records["Algebra.in_algebra"].statement == (
        'theorem in_algebra (s : String) (h : s = "theorem fake := by\\n sorry") : s = s :=')


def test_header_recreates_the_context(by_name):
    records, _ = by_name
    assert records["A.B.inner_thm"].header() == (
        "import Mathlib.Data.Finset.Basic\nnamespace A.B\nopen Nat\nopen Finset\n"
        "variable (n : ℕ)\nvariable (m : ℕ)\n")


def test_declaration_ends_at_next_column0_command_not_by_indentation():
    text = ("theorem a : True := by\n  trivial\n\n-- a comment about b\n/- block -/\n\n"
            "@[simp] theorem b : True :=\ntrivial\ntheorem c : 1 = 1 := rfl\n#check c\n"
            "theorem d : 2 = 2 := by\n  rfl\n  -- a last comment\n\nattribute [simp] d\n")
    records, skipped = extract_text(text, "F.lean")
    assert [(r.name, r.proof) for r in records] == [
        ("a", "theorem a : True := by\n  trivial"),
        ("b", "theorem b : True :=\ntrivial"),  # an unindented proof line is still part of b
        ("c", "theorem c : 1 = 1 := rfl"),
        ("d", "theorem d : 2 = 2 := by\n  rfl"),
    ]
    assert [r.line for r in records] == [1, 7, 9, 11]
    assert not skipped


def test_indented_and_malformed_theorems_are_counted_not_lost():
    text = "mutual\n  theorem even : True := trivial\n  theorem odd : True := trivial\nend\ntheorem : True := trivial\n"
    records, skipped = extract_text(text)
    assert records == []
    assert skipped == {"theorem not at column 0": 2, "mutual": 1, "malformed theorem": 1}


def test_variable_in_and_omit_in_apply_to_one_theorem():
    text = ("section\nvariable (x : ℕ)\nvariable {y : ℕ} in\ntheorem t1 : x = x := rfl\n"
            "omit x in\ntheorem t2 : True := trivial\ntheorem t3 : True := trivial\nend\n")
    records, _ = extract_text(text)
    assert [r.variables for r in records] == [
        ["variable (x : ℕ)", "variable {y : ℕ}"], ["variable (x : ℕ)", "omit x"], ["variable (x : ℕ)"]]


def test_repo_walk_skips_build_dirs_and_reads_git_commit(tmp_path):
    repo = tmp_path / "proj"
    shutil.copytree(SAMPLES, repo)
    for skipped_dir in (".lake/packages/dep", "lake-packages/dep", "build/ir"):
        (repo / skipped_dir).mkdir(parents=True)
        (repo / skipped_dir / "Dep.lean").write_text("theorem from_dependency : True := trivial\n")
    assert extract_repo(repo).records[0].commit == ""  # not a git repository
    git = shutil.which("git")
    if git is None:
        pytest.skip("git not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for cmd in (["init", "-q"], ["add", "-A", "-f"], ["commit", "-q", "-m", "x"]):
        subprocess.run([git, "-C", str(repo), *cmd], check=True, env=env)
    head = subprocess.run([git, "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    result = extract_repo(repo)
    assert len(head) == 40 and {r.commit for r in result.records} == {head}
    assert result.files == 3 and not [r for r in result.records if r.name == "from_dependency"]
    assert extract_repo(repo, commit="given").records[0].commit == "given"


def test_cli_extract_writes_records_and_prints_the_skip_summary(tmp_path, capsys):
    out = tmp_path / "theorems.jsonl"
    assert main(["data", "extract", "--repo", str(SAMPLES), "--commit", "abc", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "24 theorems from 3 files" in printed
    assert "skipped: " in printed and "def: 1" in printed and "malformed theorem: 1" in printed
    records = read_records(out, TheoremRecord)
    assert len(records) == 24 and records[0].name == "Algebra.Ring.add_zero'" and records[0].commit == "abc"
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed into place


def test_cli_extract_missing_repo_is_a_one_line_error(tmp_path, capsys):
    assert main(["data", "extract", "--repo", str(tmp_path / "nope"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_dojo_without_lean_dojo_says_what_is_missing(tmp_path, capsys):
    from theoremllama.data.dojo import extract_with_dojo

    try:
        import lean_dojo  # noqa: F401
        pytest.skip("lean-dojo is installed here")
    except ImportError:
        pass
    with pytest.raises(UserError, match=r"LeanDojo, which is not installed: pip install 'theoremllama\[dojo\]'"):
        extract_with_dojo(SAMPLES, "abc")
    assert main(["data", "extract", "--dojo", "--repo", str(SAMPLES), "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "LeanDojo" in err and "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


def test_mathlib_style_file():
    """The shape of a real Mathlib file: #align lines, multi-line attribute strings, calc proofs."""
    text = '''import Mathlib.Algebra.Group.Defs

#align_import algebra.group.basic from "leanprover-community/mathlib"@"a07d750983b9"

variable {α G : Type*}

section Semigroup
variable [Semigroup α]

/-- Composing two multiplications on the left.
-/
@[to_additive (attr := simp) "Composing two additions on the left by `y` then `x`
is equal to an addition on the left by `x + y`."]
theorem comp_mul_left (x y : α) : (x * ·) ∘ (y * ·) = (x * y * ·) := by
  ext z
  simp [mul_assoc]
#align comp_mul_left comp_mul_left

end Semigroup

attribute [local simp] mul_assoc

section LeftCancelMonoid
set_option linter.deprecated false
variable {M : Type*} [LeftCancelMonoid M] {a b : M}

@[to_additive (attr := simp)]
theorem mul_right_eq_self : a * b = a ↔ b = 1 := calc
  a * b = a ↔ a * b = a * 1 := by rw [mul_one]
  _ ↔ b = 1 := mul_left_cancel_iff
#align mul_right_eq_self mul_right_eq_self

@[to_additive SubtractionMonoid.toSubNegZeroMonoid]
instance (priority := 100) DivisionMonoid.toDivInvOneMonoid : DivInvOneMonoid α :=
  { DivisionMonoid.toDivInvMonoid with
    inv_one := by simpa only [one_div, inv_inv] using (inv_div (1 : α) 1).symm }

variable (a)

@[to_additive, field_simps] -- The attributes are out of order on purpose
theorem self_ne : a ≠ a * b ↔ b ≠ 1 := self_eq_mul_right.not
end LeftCancelMonoid
'''
    records, skipped = extract_text(text, "Mathlib/Algebra/Group/Basic.lean")
    assert [(r.name, r.line) for r in records] == [("comp_mul_left", 14), ("mul_right_eq_self", 28), ("self_ne", 41)]
    assert records[0].proof == ("theorem comp_mul_left (x y : α) : (x * ·) ∘ (y * ·) = (x * y * ·) := by\n"
                                "  ext z\n  simp [mul_assoc]")
    assert records[0].variables == ["variable {α G : Type*}", "variable [Semigroup α]"]
    assert records[1].statement == "theorem mul_right_eq_self : a * b = a ↔ b = 1 :="
    assert records[1].proof.endswith("_ ↔ b = 1 := mul_left_cancel_iff")
    assert records[2].variables == ["variable {α G : Type*}", "variable {M : Type*} [LeftCancelMonoid M] {a b : M}",
                                    "variable (a)"]
    assert records[2].imports == ["Mathlib.Algebra.Group.Defs"]
    assert skipped == {"instance": 1}


def test_byte_order_mark_and_crlf_line_endings(tmp_path):
    f = tmp_path / "Win.lean"
    f.write_bytes("\ufeffimport Mathlib\r\nnamespace W\r\ntheorem t : True := by\r\n  trivial\r\n\r\nend W\r\n".encode())
    [r] = extract_repo(f, commit="").records
    assert (r.name, r.imports, r.file_path, r.line) == ("W.t", ["Mathlib"], "Win.lean", 3)
    assert r.proof == "theorem t : True := by\r\n  trivial"
