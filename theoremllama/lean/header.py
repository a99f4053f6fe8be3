"""Split a Lean submission into its header (imports and options) and its body.

Importing Mathlib takes seconds; checking a MiniF2F proof often takes less. So each REPL worker
runs a header once (`{"cmd": header}`, a fresh environment) and checks every body against that
environment (`{"cmd": body, "env": id}`). This module decides where the header ends and how
positions reported for the body map back to the code the user submitted.

The header is the leading run of `import`, `set_option` and `open` lines, with the blank and
comment lines among them. It ends after the last such line: a comment or docstring right before
the theorem belongs to the body (a docstring must stay attached to its declaration). A command
modifier such as `open Real in` or `set_option maxRecDepth 1000 in` is part of the command that
follows it, so it starts the body.

The full text the user submitted is `header + body`, with the header ending in a newline; the
body therefore starts on line `header_lines + 1`, and a message the REPL reports at body line `l`
is at line `l + header_lines` of the submission (columns are unchanged: the split is at a line
boundary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from theoremllama.lean.syntax import mask, normalize_whitespace, strip_comments

# A header directive: the first word of a line (after masking comments and strings).
_DIRECTIVE = re.compile(r"(import|set_option|open)(?![\w.'!?])")
# A line ending with the `in` keyword makes the directive a modifier of the next command.
_ENDS_WITH_IN = re.compile(r"(?<![\w.'!?])in\s*$")
# Words that start a command: an indented line starting with one of these is not a continuation.
_COMMAND_WORD = re.compile(
    r"(theorem|lemma|def|example|abbrev|instance|structure|class|inductive|axiom|opaque|namespace|"
    r"section|end|variable|universe|noncomputable|private|protected|@\[|attribute|#\w+|/--)")


@dataclass(frozen=True)
class SplitCode:
    """A submission cut at the end of its header."""

    header: str
    """The import / set_option / open lines (with comments among them), ending in a newline, or ""."""
    body: str
    """Everything after the header: the code checked in the header's environment."""

    @property
    def header_lines(self) -> int:
        """How many lines the header spans: body line `l` is submission line `l + header_lines`."""
        return self.header.count("\n")

    @property
    def key(self) -> str:
        """The header with comments, blank lines and extra spaces removed: workers are keyed by it,
        so headers that differ only in layout share one imported environment."""
        return canonical_header(self.header)


def split_header(code: str) -> SplitCode:
    """Cut `code` after its last leading import / set_option / open line."""
    masked = mask(code)
    lines = masked.split("\n")
    offset = 0          # start of the current line in `code`
    header_end = 0      # end (after the newline) of the last header line seen
    in_directive = False  # the previous non-blank line was a directive (for continuation lines)
    for i, line in enumerate(lines):
        next_offset = offset + len(line) + 1  # the newline (absent after the last line)
        stripped = line.strip()
        is_last = i == len(lines) - 1
        if not stripped:  # blank, or only comments
            offset = next_offset
            continue
        if line[:1] not in (" ", "\t") and _DIRECTIVE.match(line):
            if _ENDS_WITH_IN.search(line):
                break  # `open X in` / `set_option o v in` modifies the command that follows
            if is_last:  # a header with no body and no final newline
                return SplitCode(code + "\n", "")
            header_end = next_offset
            in_directive = True
        elif in_directive and line[:1] in (" ", "\t") and not _COMMAND_WORD.match(stripped):
            # An indented line after a directive continues it (`open A B\n  C D`).
            if _ENDS_WITH_IN.search(line):
                break
            if is_last:
                return SplitCode(code + "\n", "")
            header_end = next_offset
        else:
            break
        offset = next_offset
    return SplitCode(code[:header_end], code[header_end:])


def canonical_header(header: str) -> str:
    """One directive per line, comments and blank lines dropped, whitespace collapsed."""
    lines = []
    for line in strip_comments(header, keep_docstrings=False).split("\n"):
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and lines:  # a continuation line joins its directive
            lines[-1] += " " + normalize_whitespace(line)
        else:
            lines.append(normalize_whitespace(line))
    return "\n".join(lines) + ("\n" if lines else "")


def join_header(*headers: str) -> str:
    """Concatenate header blocks (empty ones dropped) into one valid header, ending in a newline.

    Lean accepts `import` only before every other command, but a job's `header` may end in
    `open`/`set_option` lines while its statement starts with more imports. So the imports of
    all blocks are hoisted to the top (in their order), a directive repeated word for word (after
    comments and spacing) is kept only the first time, and everything else keeps its order.
    Comment and blank lines travel with the directive before them. Blocks already in that shape
    are concatenated unchanged."""
    blocks = [h if h.endswith("\n") else h + "\n" for h in headers if h.strip()]
    plain = "".join(blocks)
    units: list[tuple[str | None, str]] = []  # (normalised directive or None, its text)
    for block in blocks:
        masked = mask(block)
        for line, masked_line in zip(block.split("\n")[:-1], masked.split("\n")):
            starts = masked_line[:1] not in (" ", "\t") and _DIRECTIVE.match(masked_line)
            if starts or not units:
                units.append((normalize_whitespace(masked_line) if starts else None, line + "\n"))
            elif units[-1][0] is not None and masked_line[:1] in (" ", "\t") and masked_line.strip():
                directive, text = units[-1]  # a continuation line (`open A B\n  C D`)
                units[-1] = (directive + " " + normalize_whitespace(masked_line), text + line + "\n")
            else:  # a comment or blank line: it stays with the unit before it
                units[-1] = (units[-1][0], units[-1][1] + line + "\n")
    seen: set[str] = set()
    imports, rest = [], []
    for directive, text in units:
        if directive is not None:
            if directive in seen:
                continue
            seen.add(directive)
        (imports if directive is not None and directive.startswith("import") else rest).append(text)
    joined = "".join(imports + rest)
    first_other = next((i for i, (d, _) in enumerate(units) if d is not None and not d.startswith("import")), None)
    late_import = first_other is not None and any(
        d is not None and d.startswith("import") for d, _ in units[first_other:])
    duplicated = len(seen) < sum(1 for d, _ in units if d is not None)
    return joined if late_import or duplicated else plain
