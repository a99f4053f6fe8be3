"""Job preparation (theoremllama/lean/job.py): what a VerifyJob becomes before any Lean runs.
Pure text checks. Written to pin the behaviours the mutation benchmark (benchmarks/mutation.py)
found unpinned by the verdict tests; test ids are plain (mutmut passes node ids to pytest)."""

import pytest

from theoremllama.errors import UserError
from theoremllama.lean.job import VerifyJob, _after_prefix, _attach_by, open_namespace, prepare_job, \
    strip_repeated_statement

CASES = [
    # (statement, proof, body): a one-line tactic goes on the `by` line, a proof already starting with
    # `by` gets no second one, a repeated statement (even after a repeated header) is cut off, a
    # statement without `:=` gets one (a proof starting with `:=` gives it up), term proofs stay
    ("theorem a : 1 = 1 := by\n", "rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a : 1 = 1 := by\n", "  simp\n  rfl", "theorem a : 1 = 1 := by\n  simp\n  rfl"),
    ("theorem a : 1 = 1 := by\n", "\n\n  rfl", "theorem a : 1 = 1 := by\n  rfl"),
    ("theorem a : 1 = 1 := by\n", " rfl", "theorem a : 1 = 1 := by\n rfl"),
    ("theorem a : 1 = 1 := by\n", "by rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a : 1 = 1 := by\n", "theorem a : 1 = 1 := by\n  rfl", "theorem a : 1 = 1 := by\n  rfl"),
    ("theorem a : 1 = 1 :=", "theorem  a :\n 1 = 1 := by rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a : 1 = 1 :=", "import Mathlib\n\ntheorem a : 1 = 1 := rfl", "theorem a : 1 = 1 := rfl"),
    ("theorem a : 1 = 1", "by rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a : 1 = 1", ":= by rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a : 1 = 1", "  :=\trfl", "theorem a : 1 = 1 := rfl"),
    ("theorem a : 1 = 1 :=", "rfl", "theorem a : 1 = 1 := rfl"),
    ("  theorem a : 1 = 1 :=  ", "rfl", "  theorem a : 1 = 1 := rfl"),
    ("theorem a : 1 = 1 := by  \n", "rfl", "theorem a : 1 = 1 := by rfl"),
    ("theorem a (x : ℕ := 3) : x = x", "rfl", "theorem a (x : ℕ := 3) : x = x := rfl"),
    ("theorem a : 1 = 1", ":=rfl", "theorem a : 1 = 1 := rfl"),
    # a repeated statement followed by a line break keeps the break (the proof's layout)
    ("theorem a : 1 = 1 :=", "theorem a : 1 = 1 :=\n  rfl", "theorem a : 1 = 1 := \n  rfl"),
    ("theorem a : 1 = 1 :=", "import X\ntheorem a : 1 = 1 :=\n  rfl", "theorem a : 1 = 1 := \n  rfl"),
    # the model repeats the declaration without the docstring, or with it
    ("/-- doc -/\ntheorem a : 1 = 1 :=", "theorem a : 1 = 1 := rfl", "/-- doc -/\ntheorem a : 1 = 1 := rfl"),
    ("/-- doc -/\ntheorem a : 1 = 1 :=", "/-- doc -/\ntheorem a : 1 = 1 := rfl", "/-- doc -/\ntheorem a : 1 = 1 := rfl"),
    # a statement ending in a line comment: the proof goes on the next line, not into the comment
    ("theorem a : 1 = 1 := -- by\n", "rfl", "theorem a : 1 = 1 := -- by\nrfl"),
]


@pytest.mark.parametrize("statement,proof,body", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bodies(statement, proof, body):
    job = prepare_job(VerifyJob(7, statement, proof))
    assert job.body == body
    assert job.id == "7" and job.proof_offset == len(job.statement) + 1 and job.body[job.proof_offset - 1] in " \n"
    assert job.body.startswith(job.statement) and not job.lemma_style and job.violations == ()
    assert job.header_block == "" and job.header == ""


def test_statement_errors():
    with pytest.raises(UserError, match="must be strings"):
        prepare_job(VerifyJob("x", "theorem a : True :=", None))
    with pytest.raises(UserError, match="must be strings"):
        prepare_job(VerifyJob("x", None, "trivial"))
    with pytest.raises(UserError, match="not a `theorem` or `lemma`"):
        prepare_job(VerifyJob("x", "def x : ℕ := 1", "rfl"))
    with pytest.raises(UserError, match=r"already holds a proof.*'theorem x : True :=\\n  trivial'"):
        prepare_job(VerifyJob("x", "theorem x : True :=\n  trivial", ""))


def test_names():
    assert prepare_job(VerifyJob("a", "theorem poly.{u} (α : Sort u) : True :=", "trivial")).name == "poly"
    job = prepare_job(VerifyJob("a", "theorem _root_.top : True :=", "trivial", "namespace Foo\n"))
    assert job.name == "top" and job.namespace == "" and job.full_name == "top"
    job = prepare_job(VerifyJob("a", "theorem in_ns : True :=", "trivial", "namespace Foo\n"))
    assert job.namespace == "Foo" and job.full_name == "Foo.in_ns"


def test_header_and_positions():
    job = prepare_job(VerifyJob("a", "open Real\ntheorem a : 1 = 1 :=", "by\n  norm_num\n  sorry", header="import Mathlib\n"))
    assert job.header_block == "import Mathlib\nopen Real\n" and job.header_lines == 2
    assert [(v.construct, v.line, v.column) for v in job.violations] == [("sorry", 5, 2)]
    job = prepare_job(VerifyJob("a", "theorem a : 1 = 1 :=", "rfl", header="import Mathlib\n", namespace="Foo"))
    assert job.header_block == "import Mathlib\nnamespace Foo\n" and job.code.endswith("theorem a : 1 = 1 := rfl")
    # a header that already opens the wanted namespace is not given a second one
    job = prepare_job(VerifyJob("a", "theorem a : 1 = 1 :=", "rfl", header="namespace Foo\n", namespace="Foo"))
    assert job.header_block == "namespace Foo\n"


def test_lemma_style_jobs():
    completion = "\n\nlemma aux : 1 = 1 := rfl\n\ntheorem a : 1 = 1 := aux  \n\n"
    job = prepare_job(VerifyJob(5, "theorem a : 1 = 1 := by\n", completion, header="import Mathlib\n"))
    assert job.lemma_style and job.proof_offset == 0 and job.id == "5"
    assert job.body == "lemma aux : 1 = 1 := rfl\n\ntheorem a : 1 = 1 := aux  \n"
    assert job.statement == "theorem a : 1 = 1 :=" and job.violations == ()
    job = prepare_job(VerifyJob("a", "theorem a : 1 = 1", "lemma aux : 1 = 1 := rfl\nsorry\ntheorem a : 1 = 1 := aux",
                                header="import Mathlib\n\n", namespace="N"))
    assert job.statement == "theorem a : 1 = 1 :=" and job.full_name == "N.a"
    assert [(v.construct, v.line) for v in job.violations] == [("sorry", 5)]  # 2 header lines + namespace line
    # the target in the namespace: a declaration after `N.a` is after the target
    job = prepare_job(VerifyJob("a", "theorem a : 1 = 1", "theorem a : 1 = 1 := rfl\nlemma b : True := trivial",
                                header="namespace N\n"))
    assert [v.construct for v in job.violations] == ["lemma"]


def test_namespaces_of_headers():
    assert open_namespace("namespace A.B\nsection S\nend S\nend B\n") == "A"
    assert open_namespace("section\nnamespace X\n") == "X"
    assert open_namespace("namespace A\nsection S.T\nend S.T\n") == "A"
    assert open_namespace("namespace A\nsection\nend\n") == "A"
    assert open_namespace("/- namespace X -/\n") == ""


def test_repeated_statements_and_by():
    assert strip_repeated_statement("theorem a : 1 = 1 := rfl", "theorem a : 1 = 1 :=") == "rfl"
    assert strip_repeated_statement("rfl", "") == "rfl"
    assert strip_repeated_statement("theorem b : 1 = 1 := rfl", "theorem a : 1 = 1 :=") == "theorem b : 1 = 1 := rfl"
    assert strip_repeated_statement("import X\ntheorem a:=\t rfl", "", "theorem a :=") == "rfl"
    assert strip_repeated_statement("import X\ntheorem b := rfl", "theorem a :=") == "import X\ntheorem b := rfl"
    assert _after_prefix("a b c rest", "abc") == 5 and _after_prefix("  ab", "ab") == 4
    assert _after_prefix("ab", "abc") is None and _after_prefix("xbc", "abc") is None and _after_prefix("", "a") is None
    assert _attach_by("rfl") == "by rfl" and _attach_by("  rfl") == "by\n  rfl"
    assert _attach_by("\n\nsimp\nrfl") == "by\nsimp\nrfl" and _attach_by("simp\n") == "by simp\n"
    assert _attach_by("rfl\n  ") == "by\nrfl\n  "
