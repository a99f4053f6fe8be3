"""Header/body splitting and job normalisation (pure text: no process involved)."""

import json

import pytest

from theoremllama.errors import UserError
from theoremllama.lean.header import canonical_header, join_header, split_header
from theoremllama.lean.job import VerifyJob, prepare_job

MINIF2F_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"


def test_split_header_keeps_comments_among_directives_and_counts_lines():
    code = ("import Mathlib\n-- a comment\n/- a block\n comment -/\nset_option maxHeartbeats 400000\n"
            "open Real\n\n/-- The docstring of t. -/\ntheorem t : True := trivial\n")
    s = split_header(code)
    assert s.header == "import Mathlib\n-- a comment\n/- a block\n comment -/\nset_option maxHeartbeats 400000\nopen Real\n"
    assert s.header_lines == 6
    # The docstring stays with its theorem, and nothing is lost.
    assert s.body.lstrip().startswith("/-- The docstring of t. -/\ntheorem t")
    assert s.header + s.body == code
    assert s.key == "import Mathlib\nset_option maxHeartbeats 400000\nopen Real\n"


def test_modifiers_with_in_start_the_body():
    code = "import Mathlib\nopen Real in\ntheorem t : π > 3 := by norm_num"
    s = split_header(code)
    assert s.header == "import Mathlib\n" and s.body.startswith("open Real in\ntheorem")
    s = split_header("set_option maxRecDepth 1000 in\ntheorem t : True := trivial")
    assert s.header == "" and s.body.startswith("set_option")


def test_continuation_lines_and_header_only_and_no_header():
    s = split_header("open BigOperators Real\n  Nat Topology\ntheorem t : True := trivial")
    assert s.header == "open BigOperators Real\n  Nat Topology\n" and s.key == "open BigOperators Real Nat Topology\n"
    assert split_header("import Mathlib").header == "import Mathlib\n"
    assert split_header("theorem t : True := trivial").header == ""
    # `import` inside a comment or a string is not a directive.
    assert split_header("-- import Mathlib\ntheorem t : True := trivial").header == ""


def test_headers_differing_only_in_layout_share_a_key():
    a = canonical_header(MINIF2F_HEADER)
    b = canonical_header("import   Mathlib\n\n-- note\nimport Aesop\nset_option maxHeartbeats 0\nopen BigOperators Real Nat Topology Rat")
    assert a == b == "import Mathlib\nimport Aesop\nset_option maxHeartbeats 0\nopen BigOperators Real Nat Topology Rat\n"


def test_minif2f_statement_moves_by_to_the_proof_and_positions_count_the_header():
    job = VerifyJob("p", statement="theorem p (x : ℕ) (h : x = 2) : x + x = 4 := by\n", proof="  subst h\n  norm_num",
                    header=MINIF2F_HEADER)
    p = prepare_job(job)
    assert p.statement == "theorem p (x : ℕ) (h : x = 2) : x + x = 4 :="
    assert p.body == "theorem p (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  norm_num"
    assert p.name == "p" and p.header_lines == 7
    # The code verdict positions refer to: header lines first, then the body.
    assert p.code.splitlines()[p.header_lines] == "theorem p (x : ℕ) (h : x = 2) : x + x = 4 := by"
    assert p.code.splitlines()[p.header_lines + 2] == "  norm_num"


def test_header_lines_in_the_statement_join_the_header():
    p = prepare_job(VerifyJob("a", "import Mathlib\nopen Real\n\ntheorem a : 1 = 1 :=", "rfl", header="import Aesop"))
    assert p.header == "import Aesop\nimport Mathlib\nopen Real\n"
    assert p.header_lines == 3
    assert p.code == "import Aesop\nimport Mathlib\nopen Real\n\ntheorem a : 1 = 1 := rfl"


def test_violations_are_found_at_submission_lines():
    p = prepare_job(VerifyJob("a", "theorem a : 1 = 1 := by\n", "  norm_num\n  sorry", header="import Mathlib\n\n"))
    (v,) = p.violations
    assert v.construct == "sorry" and p.code.splitlines()[v.line - 1].strip() == "sorry"


def test_theorem_names_are_found_past_docstrings_attributes_and_universes():
    assert prepare_job(VerifyJob("a", "/-- theorem fake : False -/\n@[simp] theorem real_one : 1 = 1 :=", "rfl")).name == "real_one"
    assert prepare_job(VerifyJob("a", "theorem _root_.Nat.my_lemma (n : ℕ) : n = n :=", "rfl")).name == "Nat.my_lemma"
    assert prepare_job(VerifyJob("a", "theorem poly.{u} (α : Sort u) (a : α) : a = a :=", "rfl")).name == "poly"
    assert prepare_job(VerifyJob("a", "lemma l : True :=", "trivial")).name == "l"


def test_statements_that_cannot_be_checked_are_refused():
    with pytest.raises(UserError, match="not a `theorem` or `lemma`"):
        prepare_job(VerifyJob("x", "def x : ℕ := 1", "rfl"))
    with pytest.raises(UserError, match="already holds a proof"):
        prepare_job(VerifyJob("x", "theorem x : True :=\n  trivial", ""))
    # a binder default value is not a proof
    assert prepare_job(VerifyJob("x", "theorem x (n : ℕ := 3) : n = n", "rfl")).body == "theorem x (n : ℕ := 3) : n = n := rfl"


def test_every_shipped_example_prepares(root):
    path = root / "data" / "examples" / "minif2f_valid_commented.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 106 and len({r["id"] for r in records}) == 106
    for r in records:
        p = prepare_job(VerifyJob(r["id"], r["statement"], r["proof"], r["header"]))
        assert p.header == canonical_header(r["header"])
        proof = p.body[len(r["statement"]):].lstrip()
        assert p.body.startswith(r["statement"])
        assert proof.startswith("by") or proof == "sorry"  # imo_1979_p1 was published as `:= sorry`


def test_imports_after_open_or_set_option_are_hoisted_and_repeats_dropped():
    """Real Lean rejects an `import` after any other command: a job header ending in `open` and a
    statement starting with `import` must still give a header Lean accepts."""
    header = "import Mathlib\nset_option maxHeartbeats 400000\nopen Real\n"
    p = prepare_job(VerifyJob("a", "import Aesop\n-- the numbers\nopen Real\nopen Nat\n\ntheorem a : 1 = 1 :=", "rfl",
                              header=header))
    assert p.header_block == ("import Mathlib\nimport Aesop\n-- the numbers\nset_option maxHeartbeats 400000\n"
                              "open Real\nopen Nat\n")
    assert p.header == "import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen Real\nopen Nat\n"
    # positions still refer to the code as checked: the body starts right after the joined header
    assert p.code.splitlines()[p.header_lines + 1] == "theorem a : 1 = 1 := rfl"  # after the blank line
    # every import comes before the first other directive
    lines = [line for line in p.header.splitlines()]
    assert max(i for i, line in enumerate(lines) if line.startswith("import")) < min(
        i for i, line in enumerate(lines) if not line.startswith("import"))


def test_join_header_keeps_order_and_layout_when_nothing_is_wrong():
    assert join_header("import Mathlib\n", "open Real\n") == "import Mathlib\nopen Real\n"
    assert join_header("import Mathlib\n\n-- why\n", "", "import Aesop\nopen Real\n  Nat\n") == \
        "import Mathlib\n\n-- why\nimport Aesop\nopen Real\n  Nat\n"
    # a repeat (after comments and spacing) is dropped with its continuation lines; a multi-line
    # comment stays whole
    assert join_header("import Mathlib /- a\n b -/\nopen  A\n  B\n", "import Mathlib\nopen A B\nopen C\n") == \
        "import Mathlib /- a\n b -/\nopen  A\n  B\nopen C\n"
    # different values of one option are both kept, in order (the later one wins in Lean)
    assert join_header("set_option maxHeartbeats 0\n", "set_option maxHeartbeats 400000\nimport Mathlib\n") == \
        "import Mathlib\nset_option maxHeartbeats 0\nset_option maxHeartbeats 400000\n"
