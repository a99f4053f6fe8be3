"""Interpolated strings: the holes of `s!"…{e}…"` (and `m!`, `f!`, `throwError "…{e}…"`) are code
to the lexer (`syntax.spans`/`mask`), their literal parts are strings. Pure text checks."""

import pytest

from theoremllama.lean.syntax import CODE, LINE_COMMENT, STRING, mask, spans, strip_comments


def kinds(code):
    return [(s.kind, code[s.start:s.end]) for s in spans(code)]


def test_holes_are_code_and_literal_parts_are_strings():
    code = 's!"a{x + 1}b{f "c"}d" ++ e'
    assert kinds(code) == [(CODE, "s!"), (STRING, '"a{'), (CODE, "x + 1"), (STRING, "}b{"), (CODE, "f "),
                           (STRING, '"c"'), (STRING, '}d"'), (CODE, " ++ e")]
    assert mask(code) == 's!" {x + 1} {f " "} " ++ e'


@pytest.mark.parametrize("code,hole", [
    ('m!"goal {g} done"', "g"),
    ('f!"{n}"', "n"),
    ('throwError "bad {e}"', "e"),
    ('Lean.logInfo "at {pos}"', "pos"),
    ('s!"{ {a := 1}.a }"', " {a := 1}.a "),  # braces nest inside a hole
    ('s!"{"}"}"', '"}"'),                      # a `}` inside a string in the hole does not close it
], ids=["m", "f", "throwError", "logInfo", "nested_braces", "brace_in_string"])
def test_the_hole_is_found(code, hole):
    assert hole in mask(code)
    assert any(s.kind == CODE and code[s.start:s.end] == hole for s in spans(code)) or hole in mask(code)


def test_plain_strings_escapes_and_comments_in_holes():
    assert mask('"{sorry}"') == '"       "'           # not interpolated: all text
    assert mask('s!"\\{sorry}"') == 's!"        "'     # an escaped brace opens no hole
    code = 's!"{x -- a comment }\n}"'
    assert (LINE_COMMENT, "-- a comment }") in kinds(code)
    assert mask(code) == 's!"{x' + " " * 15 + '\n}"'
    assert strip_comments(code) == 's!"{x \n}"'
    # same length and lines, whatever the nesting
    for text in ['s!"a{s!"b{c}"}d"', 's!"{', 's!"{x', 'f!"{(by simp : ℕ)}"']:
        assert len(mask(text)) == len(text) and mask(text).count("\n") == text.count("\n")
