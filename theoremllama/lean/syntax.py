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


def _block_comment(code: str, i: int) -> tuple[str, int]:
    """(kind, end) of the block or doc comment opening at `i` (`/-`), nesting included."""
    n = len(code)
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
            return kind, m.end()
    return kind, n


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
            kind, j = _block_comment(code, i)
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


def code_lines(code: str) -> list[str]:
    """The lines of `code` with comments removed (`strip_comments`), trailing whitespace cut and
    blank lines left out; indentation and the spacing inside a line are kept as written."""
    text = strip_comments(code.replace("\r\n", "\n"))
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def same_code(a: str, b: str) -> bool:
    """True when `a` and `b` are the same Lean code once comments are removed.

    This is the bootstrapping acceptance test: an LLM may add comments to a proof, nothing else.
    Lean's layout is part of the code (a tactic block is the lines indented under it; moving a
    line into or out of a `have ... := by` block changes the proof), so lines are compared with
    their indentation: only comments, trailing whitespace and blank lines may differ. Docstrings
    count as code (an LLM must not rewrite them)."""
    return code_lines(a) == code_lines(b)


def line_col(code: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of a character offset, the REPL's convention."""
    line = code.count("\n", 0, offset) + 1
    col = offset - (code.rfind("\n", 0, offset) + 1)
    return line, col


# What `statement_end` looks at, in masked text: `:=`, brackets, the term-level binders that own a
# `:=` of their own (`let x := v; body`, `have h : T := p; body`, `haveI`, `letI`, `let_fun`, ...),
# `←` (which takes the place of `:=` in `let x ← e`), what opens match alternatives (`with`,
# `fun |`), `where`, and a `| pattern => ...` alternative that starts a line.
_STATEMENT_TOKEN = re.compile(
    r":=|<-|←|[()\[\]{}⦃⦄⟨⟩]"
    r"|(?<![\w.'!?])(?:let_fun|let_delayed|let_tmp|letI|haveI|let|have|with|where)(?![\w'!?])"
    r"|(?<![\w.'!?])(?:fun|λ)(?=\s*\|)"
    r"|^[ \t]*\|(?=[^\n]*=>)", re.M)
_OPENING, _CLOSING = frozenset("([{⦃⟨"), frozenset(")]}⦄⟩")
_OWNS_ASSIGN = frozenset({"let_fun", "let_delayed", "let_tmp", "letI", "haveI", "let", "have"})


@dataclass(frozen=True)
class StatementEnd:
    """Where a declaration's statement ends: at its own `:=`, at `where`, or at the `|` of its
    first pattern-matching alternative."""

    at: int
    """Offset of the token (`:` of `:=`, `w` of `where`, the `|`)."""
    token: str
    """`:=`, `where` or `|`."""

    @property
    def after(self) -> int:
        """Offset just after a `:=` (the statement includes it); `at` for `where` and `|`."""
        return self.at + 2 if self.token == ":=" else self.at


def statement_end(masked: str, start: int = 0, end: int | None = None) -> StatementEnd | None:
    """The end of the statement of the declaration whose name ends at `start`, or None.

    `masked` is code with comments and literals blanked (`mask`). The one finder of "where does a
    declaration's statement end" (the extractor, job preparation and proof extraction use it): the
    first `:=` outside brackets that no binder of the type owns. A type may hold its own `:=`:
    binder defaults `(x : ℕ := 1)` and structure instances `{ x := 1 }` sit inside brackets;
    `let x := v; body`, `have h : T := p` (also `haveI`, `letI`, `let_fun`) at bracket depth 0
    each own the next `:=` (or `←`) at their depth. With no `:=`, the statement ends at `where` or
    at a line starting `| pattern => ...` (unless a `match ... with` / `fun |` of the type opened
    alternatives of its own)."""
    end = len(masked) if end is None else end
    depth = 0
    owed: list[int] = []  # the depth of each binder still waiting for its `:=`
    alternatives = False
    for m in _STATEMENT_TOKEN.finditer(masked, start, end):
        tok = m.group()
        if tok in _OPENING:
            depth += 1
        elif tok in _CLOSING:
            depth = max(depth - 1, 0)
            while owed and owed[-1] > depth:  # a binder cannot outlive its brackets
                owed.pop()
        elif tok in (":=", "<-", "←"):
            if owed and owed[-1] == depth:
                owed.pop()
            elif tok == ":=" and depth == 0:
                return StatementEnd(m.start(), ":=")
        elif tok in _OWNS_ASSIGN:
            owed.append(depth)
        elif depth:
            continue
        elif tok in ("with", "fun", "λ"):
            alternatives = True
        elif tok == "where":
            if not owed:
                return StatementEnd(m.start(), "where")
        elif not alternatives and not owed:  # a `|` alternative starting a line
            return StatementEnd(m.end() - 1, "|")
    return None


def top_level_assign(masked: str, start: int = 0) -> int | None:
    """Offset of the declaration's own `:=` in masked[start:] (see `statement_end`), or None when
    the statement does not end in `:=`."""
    found = statement_end(masked, start)
    return found.at if found is not None and found.token == ":=" else None


# A gap in a proof: `sorry`, `admit`, `sorryAx` (any spelling: `(sorry)`, `answer(sorry)`,
# `«sorry»`, `@sorryAx`), and the `stop` tactic (Lean's `macro "stop" s:tacticSeq => repeat sorry`)
# where a tactic stands: on its own line or after `by`, `;`, `·`. `stop` is not a reserved word
# (a variable may be called `stop`), so only a `stop` that ends its line counts.
_GAP = re.compile(
    r"(?<![\w.'!?\u2080-\u209c])(?:sorry|admit|sorryAx)(?![\w'!?\u2080-\u209c])"
    r"|(?:^[ \t]*|(?<![\w.'!?])by[ \t]+|[;·][ \t]*)stop[ \t]*$", re.M)


def has_sorry(code: str) -> bool:
    """True when Lean code leaves a gap (`sorry`, `admit`, `sorryAx`, the `stop` tactic) outside
    comments, docstrings and string literals. One test for proofs and statements alike (a
    statement may hold one too: `... ↔ answer(sorry)`)."""
    if not _GAP_WORD.search(code):  # masking only removes text: most code is done here, unlexed
        return False
    return _GAP.search(mask(code)) is not None


_GAP_WORD = re.compile("sorry|admit|stop")
