"""The forbidden-construct policy: every cheat is named with its line; the same words inside
comments or strings are not. Pure text checks (no process involved)."""

import pytest

from theoremllama.lean.policy import describe, find_forbidden

STATEMENT = "theorem t (x : ℕ) (h : x = 2) : x + x = 4 := "

CHEATS = [
    # (proof, construct named in the violation)
    ("by sorry", "sorry"),
    ("by\n  exact sorry", "sorry"),
    ("(sorry)", "sorry"),
    ("⟨sorry, sorry⟩", "sorry"),
    ("by\n  constructor <;> sorry", "sorry"),
    ("by\n  ·sorry", "sorry"),
    ("by\n  exact «sorry»", "sorry"),
    ("by admit", "admit"),
    ("by\n  all_goals admit", "admit"),
    ("@sorryAx _ false", "sorryAx"),
    ("by exact Lean.sorryAx _ false", "sorryAx"),
    ("by norm_num\naxiom cheat : False", "axiom"),
    ("by norm_num\nopaque secret : ℕ", "opaque"),
    ("by norm_num\n#exit", "#exit"),
    ("by\n  set_option debug.skipKernelTC true in\n  exact h ▸ rfl", "set_option debug.skipKernelTC"),
    ("by norm_num\nset_option debug.skipKernelTC true", "set_option debug.skipKernelTC"),
    ("by norm_num\n@[implemented_by id] def f : ℕ → ℕ := id", "@[implemented_by id]"),
    ("by norm_num\n@[extern \"lean_cheat\"] def g : ℕ := 0", "@[extern \"lean_cheat\"]"),
    ("by norm_num\nunsafe def u : ℕ := 0", "unsafe"),
    ("by norm_num\nrun_cmd Lean.logInfo \"hi\"", "run_cmd"),
    ("by\n  run_tac Lean.Elab.Tactic.evalTactic (← `(tactic| rfl))", "run_tac"),
    ("by norm_num\n#eval 1 + 1", "#eval"),
    ("by norm_num\nelab \"cheat\" : tactic => pure ()", "elab"),
    ("by norm_num\nmacro \"cheat\" : tactic => `(tactic| sorry)", "macro"),
    ("by norm_num\nmacro_rules | `(tactic| trivial) => `(tactic| rfl)", "macro_rules"),
    ("by norm_num\nsyntax \"cheat\" : tactic", "syntax"),
    ("by norm_num\nlocal notation \"two\" => 3", "notation"),
    ("by norm_num\ninfixl:65 \" +' \" => HAdd.hAdd", "infixl"),
    ("by norm_num\nattribute [simp] t", "attribute [simp]"),
    ("by norm_num\nnamespace X\ntheorem t : True := trivial", "namespace"),
    ("by norm_num\n\ntheorem t2 : 1 = 1 := rfl", "theorem"),
    ("by norm_num\nlemma t2 : 1 = 1 := rfl", "lemma"),
    ("by norm_num\ninstance : Inhabited ℕ := ⟨0⟩", "instance"),
    ("by norm_num\ninitialize foo : IO.Ref ℕ ← IO.mkRef 0", "initialize"),
    ("by exact by_elab do return Lean.mkConst ``True.intro", "by_elab"),
    ("by norm_num\n#print axioms t", "#print"),
]


@pytest.mark.parametrize("proof,construct", CHEATS, ids=[c for _, c in CHEATS])
def test_cheat_is_rejected_and_named(proof, construct):
    code = STATEMENT + proof
    found = find_forbidden(code, start=len(STATEMENT))
    assert found, f"not rejected: {proof!r}"
    assert construct in [v.construct for v in found]
    first = next(v for v in found if v.construct == construct)
    # The line is where the construct is written (1-based) and the description names both.
    assert code.splitlines()[first.line - 1][first.column:].startswith(construct.split()[0][:2])
    assert construct in describe(found) or construct in first.describe()
    assert f"line {first.line}" in first.describe()


HARMLESS = [
    "by\n  -- we could write sorry here, or admit, or #exit\n  norm_num",
    "by\n  /- axiom, run_cmd, set_option debug.skipKernelTC true, @[extern] -/\n  norm_num",
    "by\n  /- nested /- sorry -/ still a comment: #eval -/\n  omega",
    "by\n  have : \"sorry admit #exit\".length = 17 := by decide\n  omega",
    "by\n  simp [Nat.def, h_def, List.prefix_append, sorry_free_lemma]",
    "by\n  open Real in\n  norm_num",
    "by\n  set_option maxRecDepth 2000 in\n  norm_num [h]",
    "by\n  subst h\n  native_decide",  # not text-forbidden: the axiom check rejects it
    "by\n  have hc : (#{1, 2} : ℕ) = 2 := rfl\n  omega",
    "by\n  classical\n  exact Classical.byContradiction fun hn => hn (by omega)",
    "by\n  exact?",
    "by\n  decide",
    "by\n  nlinarith [sq_nonneg (x - 2), h]",
]


@pytest.mark.parametrize("proof", HARMLESS)
def test_words_in_comments_and_strings_and_ordinary_proofs_pass(proof):
    assert find_forbidden(STATEMENT + proof, start=len(STATEMENT)) == []


def test_only_the_proof_is_scanned_but_comments_opened_before_it_count():
    # The statement is given: a word in it is not the proof's doing.
    statement = "theorem sorry_free (h : True) : True := "
    assert find_forbidden(statement + "trivial", start=len(statement)) == []
    # A block comment opened in the statement still covers the proof's text.
    statement = "theorem t : True := /- the proof: "
    assert find_forbidden(statement + "sorry -/ trivial", start=len(statement)) == []


def test_describe_lists_the_first_violations_in_order():
    code = STATEMENT + "by\n  sorry\n#exit\naxiom a : False\naxiom b : False\n"
    found = find_forbidden(code, start=len(STATEMENT))
    assert [v.construct for v in found] == ["sorry", "#exit", "axiom", "axiom"]
    assert [v.line for v in found] == [2, 3, 4, 5]
    text = describe(found, limit=2)
    assert text.startswith("forbidden `sorry` at line 2:2") and "#exit" in text and "and 2 more" in text
