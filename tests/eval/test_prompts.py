"""Prompt variants and the example bank's choice (the end-to-end guard test is in test_evaluate.py)."""

import pytest

from theoremllama.data.minif2f import format_informal
from theoremllama.data.records import OBTRecord, Problem
from theoremllama.eval.prompts import ProofExample, ProofExampleBank, build_prompt
from theoremllama.train.prompt import FORMAL_HEADING, INFORMAL_HEADING, SYSTEM_PROMPT


def _problem(name, informal="Show that 1 + 1 = 2.", proof_nl="Compute."):
    return Problem(name=name, split="valid", header="import Mathlib\n",
                   formal_statement=f"theorem {name} : (1 : ℕ) + 1 = 2 := by\n",
                   informal_statement=informal, informal_proof=proof_nl)


def _seed(name):
    return ProofExample.from_obt(OBTRecord(
        idx=0, Name=name, Statement=f"theorem {name} : True :=",
        Proof=f"theorem {name} : True := by\n  trivial",
        Commented_proof=f"theorem {name} : True := by\n  -- it is true\n  trivial",
        Generated_informal_statement_and_proof=f"{name} is true."))


def test_nl_prompt_is_the_training_format_with_commented_examples():
    msgs = build_prompt(_problem("p"), [_seed("a")], "nl")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[0]["content"] == SYSTEM_PROMPT
    assert msgs[1]["content"].startswith(INFORMAL_HEADING) and "a is true." in msgs[1]["content"]
    assert "-- it is true" in msgs[2]["content"] and msgs[2]["content"].startswith("```lean4")
    last = msgs[3]["content"]
    assert "Show that 1 + 1 = 2." in last and "Compute." in last
    assert last.endswith(f"{FORMAL_HEADING}\ntheorem p : (1 : ℕ) + 1 = 2 :=")  # no trailing `by`


def test_formal_prompt_has_no_natural_language_and_uncommented_examples():
    msgs = build_prompt(_problem("p"), [_seed("a")], "formal")
    text = "\n".join(m["content"] for m in msgs[1:])
    assert "is true" not in text and "Show that" not in text and INFORMAL_HEADING not in text
    assert "theorem a : True := by\n  trivial" in msgs[2]["content"]
    assert msgs[3]["content"].endswith("theorem p : (1 : ℕ) + 1 = 2 :=")


def test_a_problem_is_never_its_own_example_and_build_prompt_refuses_it():
    bank = ProofExampleBank([_seed("a"), _seed("p"), _seed("b")], selection="first")
    assert [e.name for e in bank.choose(_problem("p"), 3)] == ["a", "b"]
    with pytest.raises(ValueError, match="own in-context example"):
        build_prompt(_problem("p"), [_seed("p")])


def test_first_selection_puts_the_latest_verified_proofs_first():
    bank = ProofExampleBank([_seed("a"), _seed("b")], selection="first")
    bank.add_verified([ProofExample.from_verified(_problem("r0"), "by\n  -- easy\n  norm_num", 0)])
    bank.add_verified([ProofExample.from_verified(_problem("r1"), "by norm_num", 1),
                       ProofExample.from_verified(_problem("a"), "by simp", 1)])  # `a` already known: kept once
    assert [e.name for e in bank.choose(_problem("q"), 10)] == ["r1", "r0", "a", "b"]
    verified = bank.verified[1]
    assert verified.proof == "theorem r0 : (1 : ℕ) + 1 = 2 := by\n  -- easy\n  norm_num"
    assert verified.plain_proof == "theorem r0 : (1 : ℕ) + 1 = 2 := by\n  norm_num"
    assert verified.informal == format_informal("Show that 1 + 1 = 2.", "Compute.") and verified.origin == "round 0"


def test_seed_examples_never_show_a_sorry():
    """The shipped bank has `sorry` placeholders; none may reach a prompt as a worked example."""
    from theoremllama.eval.config import load_config
    from theoremllama.eval.evaluate import load_seed_examples
    from theoremllama.lean.syntax import mask

    examples = load_seed_examples(load_config("eval/minif2f.yaml", []))
    assert len(examples) >= 90
    for ex in examples:
        assert "sorry" not in mask(ex.proof) and "sorry" not in mask(ex.plain_proof), ex.name


def test_prompts_leave_out_missing_natural_language_and_show_the_context():
    from theoremllama.eval.prompts import problem_instruction
    from theoremllama.train.prompt import FORMAL_HEADING as TRANSLATE

    no_proof = _problem("p", proof_nl="")  # ProofNet: no informal proof
    text = build_prompt(no_proof, [], "nl")[-1]["content"]
    assert "Show that 1 + 1 = 2." in text and "Informal proof" not in text and text.startswith(INFORMAL_HEADING)
    nothing = _problem("q", informal="", proof_nl="")  # no natural language at all: the formal ask
    text = build_prompt(nothing, [_seed("a")], "nl")[-1]["content"]
    assert INFORMAL_HEADING not in text and TRANSLATE not in text
    assert text.endswith("theorem q : (1 : ℕ) + 1 = 2 :=")
    with_context = Problem(**{**_problem("r").to_dict(), "context": "abbrev r_answer : ℕ := 2\n"})
    text = problem_instruction(with_context, "formal")
    assert text.endswith("abbrev r_answer : ℕ := 2\n\ntheorem r : (1 : ℕ) + 1 = 2 :=")
