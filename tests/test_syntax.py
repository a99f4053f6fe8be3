"""The Lean lexer: comments, docstrings and literals are found where Lean finds them."""

from theoremllama.lean.syntax import (
    BLOCK_COMMENT, CHAR, DOC_COMMENT, LINE_COMMENT, STRING, line_col, mask, same_code, spans,
    strip_comments,
)


def kinds(code):
    return [(s.kind, code[s.start:s.end]) for s in spans(code) if s.kind != "code"]


def test_line_and_nested_block_comments():
    code = "a -- c1\nb /- x /- y -/ z -/ c"
    assert kinds(code) == [(LINE_COMMENT, "-- c1"), (BLOCK_COMMENT, "/- x /- y -/ z -/")]
    assert strip_comments(code) == "a \nb   c"


def test_comment_markers_inside_strings_and_chars_are_not_comments():
    code = 'x = "-- no /- no" ++ "esc\\"--" ∧ c = \'-\' -- yes'
    assert kinds(code) == [(STRING, '"-- no /- no"'), (STRING, '"esc\\"--"'), (CHAR, "'-'"),
                           (LINE_COMMENT, "-- yes")]


def test_primes_are_not_char_literals():
    code = "theorem h' (h₁' : a = b) : f' 'x' = 1"
    assert kinds(code) == [(CHAR, "'x'")]


def test_docstrings_are_kept_unless_asked():
    code = "/-- doc -- with dashes -/\ntheorem t : True := trivial /-! mod -/"
    assert kinds(code) == [(DOC_COMMENT, "/-- doc -- with dashes -/"), (DOC_COMMENT, "/-! mod -/")]
    assert strip_comments(code) == code
    assert strip_comments(code, keep_docstrings=False) == " \ntheorem t : True := trivial  "


def test_raw_strings_and_unterminated():
    code = 'r#"a "-- b"# -- c\n"open'
    assert kinds(code) == [(STRING, 'r#"a "-- b"#'), (LINE_COMMENT, "-- c"), (STRING, '"open')]


def test_mask_keeps_offsets_and_lines():
    code = 'a "sorry" -- sorry\n/- sorry -/ b'
    m = mask(code)
    assert len(m) == len(code) and m.count("\n") == 1
    assert "sorry" not in m and m.startswith('a "     "')


def test_same_code_accepts_comments_only():
    original = "theorem t (a b : ℕ) : a + b = b + a := by\n  rw [Nat.add_comm]"
    commented = "theorem t (a b : ℕ) : a + b = b + a := by\n  -- swap the summands\n  rw [Nat.add_comm] /- done -/"
    assert same_code(original, commented)
    assert not same_code(original, commented.replace("Nat.add_comm", "Nat.mul_comm"))
    # an LLM that sneaks code into a string-looking comment is still caught
    assert not same_code(original, original + "\n  simp")


def test_line_col():
    assert line_col("ab\ncd", 4) == (2, 1)
    assert line_col("ab", 0) == (1, 0)
