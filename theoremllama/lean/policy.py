"""Constructs a generated proof may not use, found before anything runs.

A model's output is only the proof of a given statement. Lean alone does not stop a proof from
cheating: it can end the file early (`#exit`), declare an axiom and use it, switch off the
kernel (`set_option debug.skipKernelTC`), run arbitrary metaprograms (`run_cmd`, `elab`,
`#eval`), redefine syntax (`notation`, `macro`), swap an implementation (`implemented_by`,
`@[extern]`, `unsafe`), or append a second theorem in a namespace so that a name lookup finds
the wrong constant. The verifier's later checks (sorry, statement type, axiom whitelist) catch
the consequences of most of these; this policy rejects them up front, by name, so that a cheat
never reaches the REPL and a verdict says exactly what was wrong.

Rules, applied to the generated part of the code only (the statement and header are given),
after `syntax.mask` blanks comments and string contents — a `sorry` inside `-- ...`, `/- ... -/`
or `"..."` is harmless and not reported:

- `sorry`, `admit`, `sorryAx` (any spelling: `exact sorry`, `(sorry)`, `«sorry»`, `@sorryAx`);
- declarations and scopes: `theorem`, `lemma`, `def`, `abbrev`, `instance`, `example`,
  `structure`, `class`, `inductive`, `axiom`, `opaque`, `mutual`, `namespace`, `deriving`;
- attributes: `attribute [...]`, `@[...]` (e.g. `@[extern "f"]`, `@[csimp]`);
- `implemented_by`, `extern`, `unsafe`;
- `set_option debug.*` (e.g. `debug.skipKernelTC`);
- commands that end or inspect the file: `#exit`, `#eval`, `#print`, `#guard_msgs`;
- metaprogramming and syntax extension: `run_cmd`, `run_tac`, `run_elab`, `run_meta`, `by_elab`,
  `elab`, `elab_rules`, `macro`, `macro_rules`, `syntax`, `declare_syntax_cat`, `notation`,
  `infix`, `infixl`, `infixr`, `prefix`, `postfix`, `binder_predicate`, `initialize`,
  `builtin_initialize`, `register_option`, `register_simp_attr`.

Allowed: ordinary tactics and terms, `open ... in`, `set_option ... in` for any option outside
`debug.*`, `native_decide` (it is not forbidden text: the axiom check rejects the
`Lean.ofReduceBool` it depends on), `#check` and Mathlib's `#s` card notation.
All the words above are Lean keywords, so an identifier cannot spell them by accident; dotted
names (`Nat.def`, `List.prefix`) are not matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from theoremllama.lean.syntax import line_col, mask

# Identifier characters (as in `syntax._is_ident_char`): a keyword must not touch one on either side.
_ID = r"\w'!?\u2080-\u209c"
_BEFORE = rf"(?<![{_ID}.])"
_AFTER = rf"(?![{_ID}])"


def _kw(*words: str) -> str:
    return _BEFORE + "(?:" + "|".join(re.escape(w) for w in words) + ")" + _AFTER


# (pattern, why) — the construct's name in a violation is the matched text.
_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(_kw("sorry", "admit")), "leaves the goal unproved"),
    (re.compile(r"sorryAx" + _AFTER), "leaves the goal unproved"),
    (re.compile(_kw("axiom", "opaque")), "declares a constant without proof"),
    (re.compile(_kw("theorem", "lemma", "def", "abbrev", "instance", "example", "structure", "class",
                    "inductive", "mutual", "deriving")),
     "adds a declaration: the generated code must be only the proof"),
    (re.compile(_kw("namespace")), "opens a namespace (names could then resolve to another constant)"),
    (re.compile(_kw("attribute") + r"(?:\s*\[[^\]\n]*\]?)?"), "changes attributes"),
    (re.compile(r"@\[[^\]\n]*\]?"), "changes attributes"),
    (re.compile(_kw("implemented_by", "extern")), "replaces an implementation"),
    (re.compile(_kw("unsafe")), "escapes the kernel's checks"),
    (re.compile(_BEFORE + r"set_option\s+debug(?:\.[\w.]*)?"), "switches off a check (debug option)"),
    (re.compile(r"(?<![\w'])#(?:exit|eval!?|print|guard_msgs)" + _AFTER),
     "ends the file early or runs code"),
    (re.compile(_kw("run_cmd", "run_tac", "run_elab", "run_meta", "by_elab", "elab", "elab_rules",
                    "macro", "macro_rules", "syntax", "declare_syntax_cat", "initialize",
                    "builtin_initialize", "register_option", "register_simp_attr")),
     "runs or installs a metaprogram"),
    (re.compile(_kw("notation", "infix", "infixl", "infixr", "prefix", "postfix", "binder_predicate")),
     "redefines syntax"),
]


@dataclass(frozen=True)
class Violation:
    """One forbidden construct found in the code."""

    construct: str
    """The offending text as written, e.g. `sorry`, `#exit`, `set_option debug.skipKernelTC`."""
    line: int
    """1-based line in the scanned code."""
    column: int
    """0-based column."""
    why: str
    """What the construct could do (one short phrase)."""

    def describe(self) -> str:
        return f"forbidden `{self.construct}` at line {self.line}:{self.column} ({self.why})"


def find_forbidden(code: str, start: int = 0, end: int | None = None) -> list[Violation]:
    """Every forbidden construct in `code[start:end]`, in order of position.

    The whole of `code` is masked first (so a comment opened before `start` is still a comment);
    positions are in `code`'s coordinates."""
    end = len(code) if end is None else end
    masked = mask(code)
    found: dict[int, Violation] = {}
    for pattern, why in _RULES:
        for m in pattern.finditer(masked, start, end):
            if m.start() in found:
                continue
            line, column = line_col(code, m.start())
            text = " ".join(code[m.start():m.end()].split())  # as written, not masked
            found[m.start()] = Violation(text, line, column, why)
    return [found[k] for k in sorted(found)]


def describe(violations: list[Violation], limit: int = 3) -> str:
    """A one-line summary for `Verdict.detail`."""
    parts = [v.describe() for v in violations[:limit]]
    more = len(violations) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
