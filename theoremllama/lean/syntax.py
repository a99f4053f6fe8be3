"""Lexical facts about Lean 4 source: where comments, docstrings and literals are.

Used wherever code is scanned as text: the forbidden-construct policy (a `sorry` inside a
comment or a string is harmless), the theorem extractor (a `theorem` keyword inside a docstring
is not a declaration) and the bootstrapping check (removing the natural-language comments an LLM
wrote must give back the original code).

Lean 4 rules implemented here:
- `--` starts a comment that runs to the end of the line (outside strings and block comments);
- `/- ... -/` is a block comment and nests; `/-- ... -/` (doc comment) and `/-! ... -/`
  (module doc) are docstrings: comments for the lexer, but part of the declaration they document;
- string literals `"..."` with backslash escapes, raw strings `r"..."` / `r#"..."#`, char
  literals `'a'`, `'\\n'` (a `'` after an identifier character is a prime, as in `h'`), and
  `«...»` quoted identifiers;
- interpolated strings (`s!"..."`, `m!"..."`, `f!"..."`: a string right after an identifier
  ending in `!`, or after `throwError`/`logInfo`/... which take one, see INTERPOLATING): each
  `{...}` hole is code (Lean's `interpolatedStr` parses a term there, up to the matching `}`;
  `\\{` is an escaped brace), lexed like any code, so a policy scan sees `{(by run_tac ...)}`.
  The literal parts around the holes are STRING spans: `"a{`, `}b{`, `}c"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE, LINE_COMMENT, BLOCK_COMMENT, DOC_COMMENT, STRING, CHAR = (
    "code", "line_comment", "block_comment", "doc_comment", "string", "char")

_CHAR_LIT = re.compile(r"'(?:\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'\n])'")
_RAW_STRING = re.compile(r'r(#*)"')


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_'!?." or ("\u2080" <= c <= "\u209c")


@dataclass(frozen=True)
class Span:
    """A run of source text of one kind: `code[start:end]`."""

    kind: str
    start: int
    end: int


# Where something other than plain code may start: the lexer jumps from one of these to the
# next with one regex search instead of looking at every character in Python.
_INTERESTING = re.compile("--|/-|\"|'|«|r#*\"")
_NESTING = re.compile(r"/-|-/")
_STRING_BODY = re.compile(r'[^"\\]*(?:\\[\s\S][^"\\]*)*"')


INTERPOLATING = frozenset({"throwError", "throwErrorAt", "logInfo", "logInfoAt", "logWarning", "logWarningAt",
                           "logError", "logErrorAt", "dbg_trace", "throwTacticEx"})
"""Functions and macros whose string argument is an interpolated string (besides `X!"..."`)."""

_WORD_BEFORE = re.compile(r"([\w.']+)\s*$")


def _interpolated(code: str, i: int) -> bool:
    """Is the string literal opening at code[i] an interpolated one?"""
    if i >= 2 and code[i - 1] == "!" and _is_ident_char(code[i - 2]):
        return True
    m = _WORD_BEFORE.search(code, max(0, i - 40), i)
    return m is not None and m.group(1).rsplit(".", 1)[-1] in INTERPOLATING


def _string_end(code: str, i: int, holes: list[tuple[int, int]] | None) -> int:
    """End of the string literal opening at code[i] (`"`); with `holes`, an interpolated one whose
    `{...}` holes (start, end of their code) are appended to it."""
    n = len(code)
    j = i + 1
    while j < n:
        c = code[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1
        elif c == "{" and holes is not None:
            k = _hole_end(code, j + 1)
            holes.append((j + 1, k))
            j = k + 1
        else:
            j += 1
    return n


def _hole_end(code: str, j: int) -> int:
    """The offset of the `}` closing a hole whose code starts at `j` (or the end of the text)."""
    n = len(code)
    depth = 0
    while j < n:
        c = code[j]
        if c == '"':
            j = _string_end(code, j, [] if _interpolated(code, j) else None)
            continue
        if code.startswith("--", j):
            k = code.find("\n", j)
            j = n if k < 0 else k
            continue
        if code.startswith("/-", j):
            level, k = 1, j + 2
            for m in _NESTING.finditer(code, k):
                level += 1 if m.group() == "/-" else -1
                if not level:
                    k = m.end()
                    break
            else:
                k = n
            j = k
            continue
        if c == "'" and (j == 0 or not _is_ident_char(code[j - 1])) and (m := _CHAR_LIT.match(code, j)):
            j = m.end()
            continue
        if c == "«":
            k = code.find("»", j)
            j = n if k < 0 else k + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return j
            depth -= 1
        j += 1
    return n


def spans(code: str) -> list[Span]:
    """Split Lean source into runs of code, comments, docstrings and literals.

    Unterminated comments and strings run to the end of the text (as Lean would report an error,
    there is nothing better to do with them)."""
    out: list[Span] = []
    n = len(code)
    i = 0
    code_start = 0

    def emit(kind: str, start: int, end: int) -> None:
        nonlocal code_start
        if code_start < start:
            out.append(Span(CODE, code_start, start))
        out.append(Span(kind, start, end))
        code_start = end

    search = _INTERESTING.search
    while i < n:
        found = search(code, i)
        if found is None:
            break
        i = found.start()
        c = code[i]
        if c == "-":  # `--`
            j = code.find("\n", i)
            j = n if j < 0 else j
            emit(LINE_COMMENT, i, j)
            i = j
        elif c == "/":  # `/-`
            kind = DOC_COMMENT if i + 2 < n and code[i + 2] in "-!" else BLOCK_COMMENT
            # `/--/` is not a doc comment opening: the `-/` closes it. Lean treats `/--/` as
            # an (empty) block comment.
            depth, j = 1, i + 2
            if kind == DOC_COMMENT and code.startswith("-/", i + 2) and code[i + 2] == "-":
                kind, j = BLOCK_COMMENT, i + 2
            elif kind == DOC_COMMENT:
                j = i + 3
            for m in _NESTING.finditer(code, j):
                depth += 1 if m.group() == "/-" else -1
                if not depth:
                    j = m.end()
                    break
            else:
                j = n
            emit(kind, i, j)
            i = j
        elif c == '"':
            holes: list[tuple[int, int]] | None = [] if _interpolated(code, i) else None
            if holes is None:
                m = _STRING_BODY.match(code, i + 1)
                j = n if m is None else m.end()
            else:
                j = _string_end(code, i, holes)
            literal = i
            for h0, h1 in holes or ():
                emit(STRING, literal, h0)
                out.extend(Span(s.kind, s.start + h0, s.end + h0) for s in spans(code[h0:h1]))
                code_start = literal = h1
            if literal < j:
                emit(STRING, literal, j)
            i = j
        elif c == "r":  # `r"` or `r#..."`: a raw string unless the `r` ends an identifier
            if i == 0 or not _is_ident_char(code[i - 1]):
                m = _RAW_STRING.match(code, i)
                closing = '"' + m.group(1)
                j = code.find(closing, m.end())
                j = n if j < 0 else j + len(closing)
                emit(STRING, i, j)
                i = j
            else:
                i += 1
        elif c == "'":
            if (i == 0 or not _is_ident_char(code[i - 1])) and (m := _CHAR_LIT.match(code, i)):
                emit(CHAR, i, m.end())
                i = m.end()
            else:
                i += 1
        else:  # `«`
            j = code.find("»", i)
            i = n if j < 0 else j + 1  # a quoted identifier is code, but skip its inside
    if code_start < n:
        out.append(Span(CODE, code_start, n))
    return out


def strip_comments(code: str, *, keep_docstrings: bool = True) -> str:
    """Remove `--` line comments and `/- -/` block comments (docstrings too if asked).

    A removed block comment leaves one space, so that `a/- x -/b` does not become `ab`."""
    parts = []
    for s in spans(code):
        if s.kind == LINE_COMMENT:
            continue
        if s.kind == BLOCK_COMMENT or (s.kind == DOC_COMMENT and not keep_docstrings):
            parts.append(" ")
            continue
        parts.append(code[s.start:s.end])
    return "".join(parts)


def mask(code: str, *, comments: bool = True, strings: bool = True) -> str:
    """The code with comments and/or literal contents blanked out (newlines kept).

    The result has the same length and line structure as the input, so offsets and line
    numbers found by scanning it apply to the original."""
    parts = []
    done = 0
    for s in spans(code):
        if (comments and s.kind in (LINE_COMMENT, BLOCK_COMMENT, DOC_COMMENT)) or (
                strings and s.kind in (STRING, CHAR)):
            lo = s.start + (1 if s.kind in (STRING, CHAR) else 0)
            hi = s.end - (1 if s.kind in (STRING, CHAR) and s.end - s.start > 1 else 0)
            parts.append(code[done:lo])
            parts.append(_blank(code[lo:hi]))
            done = hi
    parts.append(code[done:])
    return "".join(parts)


def _blank(text: str) -> str:
    """Spaces in place of every character but newlines (same length, same lines)."""
    return _NOT_NEWLINE.sub(" ", text) if "\n" in text else " " * len(text)


_NOT_NEWLINE = re.compile(r"[^\n]")


def normalize_whitespace(code: str) -> str:
    """Collapse every run of whitespace to one space and trim the ends."""
    return " ".join(code.split())


def same_code(a: str, b: str) -> bool:
    """True when `a` and `b` are the same Lean code once comments are removed, up to whitespace.

    This is the bootstrapping acceptance test: an LLM may add comments to a proof, nothing else.
    Docstrings count as code (an LLM must not rewrite them)."""
    return normalize_whitespace(strip_comments(a)) == normalize_whitespace(strip_comments(b))


def line_col(code: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of a character offset, the REPL's convention."""
    line = code.count("\n", 0, offset) + 1
    col = offset - (code.rfind("\n", 0, offset) + 1)
    return line, col


def top_level_assign(masked: str, start: int = 0) -> int | None:
    """Offset of the first `:=` outside brackets in masked[start:] (binder defaults such as
    `(x := 1)` are inside brackets); `masked` is code with comments and strings blanked (`mask`)."""
    depth = 0
    for i in range(start, len(masked) - 1):
        c = masked[i]
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth = max(depth - 1, 0)
        elif c == ":" and masked[i + 1] == "=" and depth == 0:
            return i
    return None
