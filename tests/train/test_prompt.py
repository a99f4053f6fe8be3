"""The shared prompt format: what training and evaluation both send to the model."""

import subprocess
import sys

from theoremllama.train.prompt import (
    SYSTEM_PROMPT,
    build_answer,
    build_conversation,
    build_instruction,
    extract_lean_block,
)

STATEMENT = "theorem t (x : ℝ) (h : x = 2) : x + 1 = 3 :="
PROOF = STATEMENT + " by\n  -- substitute x = 2\n  subst h\n  norm_num"


def test_instruction_carries_informal_and_statement():
    text = build_instruction("  If x = 2 then x + 1 = 3.\nProof: substitute.  ", STATEMENT)
    assert "If x = 2 then x + 1 = 3.\nProof: substitute." in text
    assert text.rstrip().endswith(STATEMENT)
    assert text.index("If x = 2") < text.index(STATEMENT)


def test_answer_round_trips_through_extract():
    answer = build_answer(PROOF + "\n\n")
    assert answer.startswith("```lean4\n") and answer.endswith("\n```")
    assert extract_lean_block("Here is the proof:\n" + answer + "\nDone.") == PROOF


def test_conversation_layout():
    examples = [("i1", "a1"), ("i2", "a2")]
    msgs = build_conversation(examples, "ask")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert msgs[0]["content"] == SYSTEM_PROMPT
    assert [m["content"] for m in msgs[1:]] == ["i1", "a1", "i2", "a2", "ask"]
    assert build_conversation([], "ask") == [{"role": "system", "content": SYSTEM_PROMPT},
                                             {"role": "user", "content": "ask"}]


def test_extract_lean_block_variants():
    assert extract_lean_block("```lean\nexample : True := trivial\n```") == "example : True := trivial"
    # the first block wins; a python block is not Lean
    text = "```python\nprint(1)\n```\n```lean4\nA\n```\n```lean4\nB\n```"
    assert extract_lean_block(text) == "A"
    # a completion cut off by max_tokens still yields its code
    assert extract_lean_block("```lean4\ntheorem x : 1 = 1 := by\n  rf") == "theorem x : 1 = 1 := by\n  rf"
    assert extract_lean_block("no code here") is None
    assert extract_lean_block("```lean4\n```") == ""
    assert extract_lean_block("```leanish\nx\n```") is None


def test_prompt_module_is_light():
    """Evaluation imports the prompt format without paying for torch/transformers."""
    code = ("import sys, theoremllama.train, theoremllama.train.prompt; "
            "heavy = [m for m in ('torch', 'transformers', 'deepspeed') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
