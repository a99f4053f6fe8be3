"""Extracting the proof from a completion and splicing it onto the ORIGINAL statement."""

from theoremllama.eval.extract import extract_proof, splice, statement_of

STATEMENT = "theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 :="


def test_first_lean_block_repeating_the_statement_gives_what_follows_its_assign():
    completion = ("Here is the proof.\n```lean4\n" + STATEMENT + " by\n  -- compute both products\n"
                  "  norm_num [abs_of_nonneg]\n```\nand another one\n```lean\ntheorem x : True := trivial\n```")
    assert extract_proof(completion) == "by\n  -- compute both products\n  norm_num [abs_of_nonneg]"


def test_a_different_theorem_contributes_only_its_proof_spliced_on_the_original():
    completion = "```lean\ntheorem easier : (1 : ℕ) = 1 := by\n  rfl\n```"
    proof = extract_proof(completion)
    assert proof == "by\n  rfl"
    assert splice(STATEMENT, proof) == STATEMENT + " by\n  rfl"


def test_no_block_means_the_completion_is_the_proof():
    assert extract_proof("by\n  norm_num\n") == "by\n  norm_num"


def test_bracketed_assign_in_binders_and_assign_in_comments_are_skipped():
    code = ("```lean\ntheorem t (n : ℕ) (h : n = 2 := by rfl) : n + 0 = n := by\n"
            "  -- n := 2 here\n  simp\n```")
    assert extract_proof(code) == "by\n  -- n := 2 here\n  simp"


def test_proof_stops_at_the_next_top_level_command():
    code = "```lean\ntheorem t : True := by\n  trivial\n\n#print axioms t\ntheorem u : True := trivial\n```"
    assert extract_proof(code) == "by\n  trivial"


def test_unclosed_block_still_yields_its_code():  # a completion cut by max_tokens
    assert extract_proof("```lean4\ntheorem t : True := by\n  triv") == "by\n  triv"


def test_statement_without_proof_or_empty_completion_gives_nothing():
    assert extract_proof("```lean\ntheorem t : True\n```") == ""
    assert extract_proof("") == ""


def test_statement_of_drops_a_trailing_by_or_sorry():
    assert statement_of("theorem t : True := by\n") == "theorem t : True :="
    assert statement_of("theorem t : True := sorry") == "theorem t : True :="
    assert statement_of("theorem t : True :=") == "theorem t : True :="
