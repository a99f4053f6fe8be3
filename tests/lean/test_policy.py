"""The forbidden-construct policy: every cheat is named with its line; the same words inside
comments or strings are not. Pure text checks (no process involved)."""

import re

import pytest

from theoremllama.lean.policy import (declarations, describe, find_forbidden, find_forbidden_completion,
                                      starts_with_declaration)

def ids(names):
    """Plain test ids (node ids with newlines or brackets cannot be passed back to pytest)."""
    return [f"{i}_{re.sub(r'[^A-Za-z0-9_]+', '_', str(n))[:40]}" for i, n in enumerate(names)]


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


@pytest.mark.parametrize("proof,construct", CHEATS, ids=ids(c for _, c in CHEATS))
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


@pytest.mark.parametrize("proof", HARMLESS, ids=ids(HARMLESS))
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


# ----------------------------------------------------------------------------- bypasses (issue 9, item 8)

BYPASSES = [
    # quoted name parts spell the same option
    ("by\n  set_option «debug».skipKernelTC true in\n  exact h ▸ rfl", "set_option «debug».skipKernelTC"),
    ("by norm_num\nset_option «debug».«skipKernelTC» true", "set_option «debug».«skipKernelTC»"),
    ("by\n  set_option\n    debug.skipKernelTC true in\n  omega", "set_option debug.skipKernelTC"),
    # code inside string interpolation is code
    ("by\n  have : s!\"{(by run_tac pure ())}\" = \"\" := rfl\n  omega", "run_tac"),
    ("by\n  have := m!\"x {(sorry : ℕ)} y\"\n  omega", "sorry"),
    ("by\n  have := f!\"{1}{#eval 1}\"\n  omega", "#eval"),
    ("by\n  have : String := s!\"a{s!\"b{(by admit : ℕ)}\"}c\"\n  omega", "admit"),
    ("by\n  exact (throwError \"bad {(by sorry : ℕ)}\" : Lean.MetaM Unit) |> fun _ => by omega", "sorry"),
    # modifiers that escape the kernel's checks, hypotheses from section variables
    ("by norm_num\npartial def loop : ℕ → ℕ := loop", "partial"),
    ("by norm_num\nnoncomputable def c : ℕ := Classical.choice ⟨0⟩", "noncomputable"),
    ("by norm_num\nvariable (cheat : False)", "variable"),
]


@pytest.mark.parametrize("proof,construct", BYPASSES, ids=ids(c for _, c in BYPASSES))
def test_bypasses_are_rejected(proof, construct):
    found = find_forbidden(STATEMENT + proof, start=len(STATEMENT))
    assert construct in [v.construct for v in found], found


@pytest.mark.parametrize("proof", [
    "by\n  have : s!\"{x} sorry {x}\" = s!\"{x} sorry {x}\" := rfl\n  omega",  # words in the literal parts
    "by\n  have : \"{sorry}\".length = 7 := by decide\n  omega",  # braces in a plain string are text
    "by\n  have : s!\"\\{sorry}\" = \"\" := sorry_free\n  omega",  # an escaped brace opens no hole
    "by\n  set_option maxRecDepth 4000 in\n  omega",
    "by\n  set_option «maxRecDepth» 4000 in\n  omega",
], ids=ids(range(5)))
def test_interpolation_and_quoted_names_without_cheats_pass(proof):
    assert find_forbidden(STATEMENT + proof, start=len(STATEMENT)) == []


# ----------------------------------------------------------------------------- lemma-style completions

AUX = "lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  norm_num\n\n"
TARGET = "theorem t (x : ℕ) (h : x = 2) : x + x = 4 := aux x h\n"


def test_lemma_style_accepts_auxiliaries_before_the_target():
    for completion in [AUX + TARGET, "/-- doc -/\ndef two : ℕ := 2\n\nabbrev four := 4\n\n" + AUX + TARGET,
                       "private lemma p : True := trivial\nprotected theorem q : True := trivial\n" + TARGET,
                       "open Nat in\n" + AUX + "open Real\n\n" + TARGET,
                       AUX + TARGET.replace("theorem t", "theorem _root_.t")]:
        assert starts_with_declaration(completion) or completion.startswith("open")
        assert find_forbidden_completion(completion, "t") == [], completion


@pytest.mark.parametrize("completion,construct,why", [
    (AUX + TARGET + "theorem after : True := trivial\n", "theorem", "after the target"),
    (AUX + TARGET + "def after : ℕ := 1\n", "def", "after the target"),
    (AUX + TARGET.replace("theorem t", "def t"), "def", "`theorem` or `lemma`"),
    (AUX + TARGET.replace("theorem t", "abbrev t"), "abbrev", "`theorem` or `lemma`"),
    ("@[simp] " + AUX + TARGET, "@[simp]", "attributes"),
    ("instance : Inhabited ℕ := ⟨3⟩\n" + TARGET, "instance", "declaration other than"),
    ("noncomputable " + AUX + TARGET, "noncomputable", "kernel"),
    ("axiom a : False\n" + TARGET, "axiom", "without proof"),
    ("namespace X\n" + AUX + "end X\n" + TARGET, "namespace", "namespace"),
    ("set_option debug.skipKernelTC true\n" + AUX + TARGET, "set_option debug.skipKernelTC", "debug"),
    (AUX.replace("norm_num", "sorry") + TARGET, "sorry", "unproved"),
], ids=ids(range(11)))
def test_lemma_style_rejects(completion, construct, why):
    found = find_forbidden_completion(completion, "t")
    assert any(v.construct == construct and why in v.why for v in found), found


def test_lemma_style_target_names_are_qualified_with_the_namespace():
    assert find_forbidden_completion(AUX + TARGET, "Foo.t", namespace="Foo") == []
    # `aux` declared after `Foo.t` is after the target even though it is named differently
    late = TARGET + AUX
    assert [v.construct for v in find_forbidden_completion(late, "Foo.t", namespace="Foo")] == ["lemma"]
    # a completion that restates only some other theorem has no target: the checks report it
    assert find_forbidden_completion(AUX, "t") == []
    assert [(k, n) for k, n, _ in declarations(AUX + TARGET)] == [("lemma", "aux"), ("theorem", "t")]


def test_a_proof_term_or_tactic_block_is_not_a_completion():
    for proof in ["by\n  norm_num", "  norm_num", "aux x h", "fun x => x", "(by simp)", "-- lemma\n  simp",
                  "/- theorem t -/ by simp", "by\n  have lemma_like : True := trivial\n  simp"]:
        assert not starts_with_declaration(proof), proof
    for completion in [AUX, "@[simp] " + AUX, "/-- doc -/\ntheorem t : True := trivial", "axiom a : False",
                       "instance : Inhabited ℕ := ⟨0⟩", "private lemma l : True := trivial"]:
        assert starts_with_declaration(completion), completion


# ----------------------------------------------------------------------------- pinned by the mutation benchmark

def test_scan_bounds_and_defaults():
    assert [(v.construct, v.column) for v in find_forbidden("sorry")] == [("sorry", 0)]
    code = "by simp\n  sorry\ntheorem x : True := sorry"
    assert [v.construct for v in find_forbidden(code, 0, code.index("theorem"))] == ["sorry"]
    assert [v.construct for v in find_forbidden(code, 0, code.index("sorry"))] == []
    (declaration,) = [v for v in find_forbidden(code) if v.construct == "theorem"]
    assert declaration.why == "adds a declaration after the proof" and declaration.line == 3


def test_describe_limits():
    found = find_forbidden("sorry\nsorry\nsorry\nsorry")
    assert describe(found[:3]) == "; ".join(v.describe() for v in found[:3])  # default limit 3, nothing more
    assert describe(found).endswith("; and 1 more") and describe(found[:1]) == found[0].describe()


def test_declarations_and_target_rules_exactly():
    assert [(k, n) for k, n, _ in declarations("theorem poly.{u} (a : Sort u) : True := trivial\ntheorem")] == [
        ("theorem", "poly"), ("theorem", "")]
    assert find_forbidden_completion(AUX + TARGET.replace("theorem t", "lemma t"), "t") == []
    (v,) = find_forbidden_completion(AUX + TARGET.replace("theorem t", "def t"), "t")
    assert v.why == "the target must be declared by `theorem` or `lemma`"
    (v,) = find_forbidden_completion(TARGET + AUX, "t")
    assert v.why == "declares something after the target" and v.construct == "lemma"
    # `_root_.t` written inside namespace Foo declares `t`: the lemma after it is after the target
    assert [v.construct for v in find_forbidden_completion(
        TARGET.replace("theorem t", "theorem _root_.t") + AUX, "t", namespace="Foo")] == ["lemma"]
