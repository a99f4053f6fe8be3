"""The two bootstrap stages' parsing and acceptance rules, and the config checks."""

import pytest

from theoremllama.bootstrap.config import config_from_dict, load_config
from theoremllama.bootstrap.examples import CommentedExample, CommentedExampleBank, example_from_dict, load_examples
from theoremllama.bootstrap.informalize import InformalFilter, informalize_prompt, parse_informal, repetition_ratio
from theoremllama.bootstrap.weave import accept_commented, code_blocks, weave_prompt
from theoremllama.data.minif2f import format_informal
from theoremllama.errors import UserError

PROOF = 'theorem t (x : ℕ) (h : x = 2) : x + x = 4 := by\n  -- aesop?\n  subst h\n  simp [show "--" = "--" from rfl]'
COMMENTED = ('theorem t (x : ℕ) (h : x = 2) : x + x = 4 := by\n  -- aesop?\n  -- Substitute x = 2.\n  subst h\n'
             '  /- Then 2 + 2 = 4 /- nested -/ by computation. -/\n  simp [show "--" = "--" from rfl]')


@pytest.mark.parametrize("answer", [
    "# Informal statement\nIf x = 2 then x + x = 4.\n\n# Informal proof\nSubstitute and compute 2 + 2 = 4.",
    "## Natural language statement:\nIf x = 2 then x + x = 4.\n## Informal Proof:\nSubstitute and compute 2 + 2 = 4.",
    "**Statement:** If x = 2 then x + x = 4.\n**Proof:** Substitute and compute 2 + 2 = 4.",
    'Sure.\n```json\n{"informal_statement": "If x = 2 then x + x = 4.", "informal_proof": "Substitute and compute 2 + 2 = 4."}\n```',
    'Statement: If x = 2 then x + x = 4.\nProof: Substitute and compute 2 + 2 = 4.',
])
def test_parse_informal_variants(answer):
    assert parse_informal(answer) == ("If x = 2 then x + x = 4.", "Substitute and compute 2 + 2 = 4.")


def test_parse_keeps_later_proof_lines_in_the_proof():
    s, p = parse_informal("# Informal statement\nA claim here.\n# Informal proof\nFirst step.\nProof of the lemma: easy.")
    assert s == "A claim here." and p == "First step.\nProof of the lemma: easy."
    assert parse_informal("just prose without sections") is None
    echoed = "```lean4\ntheorem t : 1 = 1 := by\n  rfl\n```\n# Informal statement\nOne is one.\n# Informal proof\nProofs by rfl are easy."
    assert parse_informal(echoed) == ("One is one.", "Proofs by rfl are easy.")
    assert parse_informal(format_informal("S text", "P text")) == ("S text", "P text")


@pytest.mark.parametrize("answer,reason", [
    ("", "empty"),
    ("   \n", "empty"),
    ("I'm sorry, but I cannot help with that.", "refusal"),
    ("As an AI language model, I will not.\n# Informal statement\nabc def ghi\n# Informal proof\nabc def ghi", "refusal"),
    ("Here is the answer without sections.", "format"),
    ("# Informal statement\nx\n# Informal proof\ny", "too_short"),
    ("# Informal statement\n" + "long " * 2000 + "\n# Informal proof\nshort proof here", "too_long"),
    ("# Informal statement\nShow that it holds.\n# Informal proof\n" + "we add one to both sides " * 30, "repetitive"),
])
def test_filter_rejections(answer, reason):
    assert InformalFilter().check(answer) == (None, reason)


def test_filter_accepts_normal_proof():
    proof = ("Since x = 2, substituting gives x + x = 2 + 2. Adding, 2 + 2 = 4, which is what we wanted. "
             "No case analysis is needed because the hypothesis fixes x completely.")
    assert repetition_ratio(proof) < 0.1
    assert InformalFilter().check(f"# Informal statement\nIf x = 2, then x + x = 4.\n# Informal proof\n{proof}") == (
        ("If x = 2, then x + x = 4.", proof), "ok")


def test_weave_accepts_only_added_comments():
    fenced = f"Here it is:\n```lean4\n{COMMENTED}\n```\nDone."
    assert accept_commented(PROOF, fenced) == (COMMENTED, "ok")
    # bare code, and a block cut off by the token limit
    assert accept_commented(PROOF, COMMENTED) == (COMMENTED, "ok")
    assert accept_commented(PROOF, f"```lean\n{COMMENTED}\n")[1] == "ok"
    # the original's own comments do not count as new ones
    assert accept_commented(PROOF, f"```lean4\n{PROOF}\n```") == (None, "no_comments")
    # any change to the code (a tactic, a string literal) is refused
    changed = COMMENTED.replace("subst h", "subst h\n  norm_num")
    assert accept_commented(PROOF, f"```lean4\n{changed}\n```") == (None, "code_changed")
    in_string = COMMENTED.replace('show "--" = "--"', 'show "-- x" = "-- x"')
    assert accept_commented(PROOF, f"```lean4\n{in_string}\n```") == (None, "code_changed")
    assert accept_commented(PROOF, "I could not do it.") == (None, "no_code")
    # the block that matches wins when there are several
    assert accept_commented(PROOF, f"```python\nprint(1)\n```\n```lean4\n{COMMENTED}\n```")[1] == "ok"
    assert code_blocks("```lean4\na\n```\n```\nb\n```") == ["a\n", "b\n"]


LAYOUT = ("theorem t (a b : ℕ) (h1 : a = 1) (h2 : b = a) : b = 1 := by\n"
          "  have h3 : a = 1 := by\n"
          "    exact h1\n"
          "  subst h2; rfl")


def test_weave_refuses_a_changed_layout():
    """Lean is indentation-sensitive: the same tokens in other lines or columns are another proof."""
    # the example: `subst h2; rfl` moved into the `have ... := by` block
    moved = LAYOUT.replace("\n  subst h2; rfl", "\n    -- then substitute\n    subst h2; rfl")
    assert accept_commented(LAYOUT, f"```lean4\n{moved}\n```") == (None, "code_changed")
    split = LAYOUT.replace("subst h2; rfl", "subst h2 -- b is a\n  rfl")  # one line made two
    assert accept_commented(LAYOUT, f"```lean4\n{split}\n```") == (None, "code_changed")
    joined = LAYOUT.replace(":= by\n    exact h1", ":= by exact h1 -- direct")
    assert accept_commented(LAYOUT, f"```lean4\n{joined}\n```") == (None, "code_changed")
    shifted = LAYOUT.replace("\n  subst", "\n   subst") + "  -- done"  # one column more
    assert accept_commented(LAYOUT, f"```lean4\n{shifted}\n```") == (None, "code_changed")
    inline = LAYOUT.replace("subst h2;", "subst h2; /- then -/")  # shifts `rfl` within its line
    assert accept_commented(LAYOUT, f"```lean4\n{inline}\n```") == (None, "code_changed")
    # comments, trailing spaces, blank lines and CRLF line ends are all an LLM may change
    fine = ("-- Since b = a and a = 1, b = 1.\r\n" + LAYOUT.replace("exact h1", "exact h1   -- given")
            .replace("\n  subst", "\n\n  /- substitute\n     b := a -/\n  subst").replace("\n", "\r\n") + "  \r\n")
    assert accept_commented(LAYOUT, f"```lean4\n{fine}\n```")[1] == "ok"


def test_prompts_hold_examples_and_theorem():
    ex = CommentedExample("e", "theorem e : 1 = 1 := rfl", "One is one.", "By reflexivity.", "theorem e : 1 = 1 := rfl -- refl")
    msgs = informalize_prompt(PROOF, [ex])
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert ex.proof in msgs[1]["content"] and PROOF in msgs[-1]["content"]
    assert parse_informal(msgs[2]["content"]) == ("One is one.", "By reflexivity.")
    msgs = weave_prompt(PROOF, "Substitute.", [ex])
    assert ex.commented_proof in msgs[2]["content"] and "Substitute." in msgs[-1]["content"]


def test_seed_bank_and_fixed_bank_excludes_self():
    examples = load_examples()
    assert len(examples) == 93  # the 106 seed rows that carry a Commented_proof
    assert example_from_dict({"Name": "x", "Proof": "p"}) is None
    bank = CommentedExampleBank(examples[:4])
    names = [e.name for e in bank.top_k("", 3, exclude=examples[0].name)]
    assert names == [e.name for e in examples[1:4]]


def test_config_errors_name_the_key(tmp_path):
    base = {"input": "in.jsonl", "output": "out", "llm": {"backend": "openai", "model": "m"}}
    assert config_from_dict(base).examples.k == 3
    with pytest.raises(UserError, match=r"^informalize\.retries: expected an integer"):
        config_from_dict({**base, "informalize": {"retries": "three"}})
    with pytest.raises(UserError, match=r"^examples\.kk: unknown config key"):
        config_from_dict({**base, "examples": {"kk": 2}})
    with pytest.raises(UserError, match=r"^input: required"):
        config_from_dict({"output": "x", "llm": {"backend": "hf"}})
    with pytest.raises(UserError, match=r"^weave\.sampling: .*unexpected keyword"):
        config_from_dict({**base, "weave": {"sampling": {"temprature": 0.2}}})
    with pytest.raises(UserError, match=r"llm\.backend: required"):
        config_from_dict({**base, "llm": {"model": "m"}})
    path = tmp_path / "c.yaml"
    path.write_text("input: a\noutput: b\nllm: {backend: openai, model: m}\nverify: {enabled: yes}\n")
    config = load_config(path, {"examples.k": 5, "verify.enabled": False})
    assert config.examples.k == 5 and config.verify.enabled is False
    with pytest.raises(UserError, match=r"c\.yaml: concurrency: expected an integer"):
        load_config(path, {"concurrency": "many"})


def test_shipped_configs_load(root):
    config = load_config(root / "configs/bootstrap/default.yaml")
    assert config.llm["backend"] == "openai" and config.verify.enabled is False and config.iterate
    config = load_config(root / "configs/bootstrap/vllm_offline.yaml")
    assert config.llm["backend"] == "vllm" and config.concurrency == 256


def test_theorems_with_sorry_are_rejected_before_any_request(tmp_path):
    """A `sorry` proof, an `answer(sorry)` statement and an `admit` are counted rejections
    (`input/sorry`); a `sorry` in a comment or string is not one. The LLM is the scripted
    loopback server (tests/support/openai_server.py)."""
    import json
    import re

    from support.openai_server import ScriptedOpenAIServer
    from theoremllama.bootstrap.pipeline import run_bootstrap
    from theoremllama.data.jsonl import read_jsonl

    theorems = {
        "real": 'theorem real (x : ℕ) (h : x = 2) : x + x = 4 := by\n  -- no sorry here\n  subst h\n  simp [show "sorry" = "sorry" from rfl]',
        "placeholder": "theorem placeholder (x : ℕ) : x + 0 = x := by\n  sorry",
        "open_problem": "theorem open_problem : (∃ n : ℕ, n * n = 2) ↔ answer(sorry) := by\n  simp",
        "admitted": "theorem admitted : 2 + 2 = 4 := by\n  admit",
    }
    with open(tmp_path / "in.jsonl", "w") as f:
        for name, proof in theorems.items():
            f.write(json.dumps({"name": name, "statement": proof[:proof.index(":= by") + 2], "proof": proof}) + "\n")

    def respond(body):
        last = body["messages"][-1]["content"]
        if last.startswith("Lean 4 theorem:"):
            return "# Informal statement\nx + x = 4 when x = 2.\n# Informal proof\nSubstitute x = 2 and compute."
        return "```lean4\n" + theorems["real"].replace("  subst h", "  -- Substitute.\n  subst h") + "\n```"

    with ScriptedOpenAIServer(respond) as server:
        config = config_from_dict({"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out"),
                                   "llm": {"backend": "openai", "model": "m", "base_url": server.base_url},
                                   "examples": {"encoder": None, "k": 1}})
        summary = run_bootstrap(config, progress=False)
        asked = {re.search(r"theorem\s+(\S+)", b["messages"][-1]["content"]).group(1) for b in server.requests}
    assert summary.accepted == 1 and summary.rejected == {"input/sorry": 3} and asked == {"real"}
    rejections = {d["Name"]: (d["stage"], d["reason"]) for d in read_jsonl(tmp_path / "out" / "rejections.jsonl")}
    assert rejections == {n: ("input", "sorry") for n in ("placeholder", "open_problem", "admitted")}
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["rejected"] == {"input/sorry": 3}


def test_lean_check_flag_turns_on_the_lean_recheck():
    import argparse

    from theoremllama.bootstrap.cli import add_arguments, overrides_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for argv, expected in ((["--lean-check"], True), (["--no-lean-check"], False), (["--verify"], True)):
        assert overrides_from_args(parser.parse_args(["--config", "c.yaml", *argv]))["verify.enabled"] is expected
    assert "verify.enabled" not in overrides_from_args(parser.parse_args(["--config", "c.yaml"]))
