"""Constructs generated code may not use, found before anything runs.

A model's output is a proof of a given statement: either the proof that follows the statement's
`:=`, or (lemma style) a completion that declares auxiliary `theorem`/`lemma`/`def`/`abbrev`
declarations and then restates and proves the target. What makes a verdict `ok` is Lean's own
account of the result, read by the worker (`checks.py`): no error, no sorry, the target's
elaborated type printed equal to the statement's in the header-only environment, and the
target's transitive `#print axioms` inside {propext, Classical.choice, Quot.sound} (it walks
every constant the proof term mentions, auxiliaries included: `collectAxioms`,
src/Lean/Util/CollectAxioms.lean). Those checks trust two things: that the kernel checked every
declaration, and that the environment they print from was built by ordinary elaboration. The
rules below protect exactly that trust; each says why it is still needed now that declarations
are allowed (the checks would not see the cheat, or would see it only by luck).

The code is scanned after `syntax.mask` blanks comments and string contents (a `sorry` inside
`-- ...` or `"..."` is harmless), but the `{...}` holes of interpolated strings (`s!"{e}"`,
`m!`, `f!`, `throwError "...{e}"`) are code and are scanned.

rule (forbidden text)               the cheat it stops / why it is still needed with declarations allowed
----------------------------------  ------------------------------------------------------------
`sorry`, `admit`, `sorryAx`         an unproved goal; the checks see it too (warning,
                                    `sorryAx`), this names it before a REPL is spent

`axiom`, `opaque`                   a constant without proof; an unused one would pass the axiom
                                    check of the target, so reject it anyway

`instance`, `example`,              not auxiliary lemmas: an instance or a new type changes how
`structure`, `class`, `inductive`,  the restated statement and every later proof elaborate
`mutual`, `deriving`                (instance search, `decide`), which the printed-type
                                    comparison catches only where it shows in the type

`theorem`, `lemma`, `def`,          a declaration after the target, or a second proof appended
`abbrev` outside the lemma-style    after the given one, is not an auxiliary
form

target declared by `def`/`abbrev`,  the target must be the last declaration and a
or not last                         `theorem`/`lemma`

`namespace`                         a namespace opened in the completion makes NAME resolve to
                                    another constant

`variable`, `include`, `omit`       section variables silently become hypotheses of the restated
                                    target

`attribute [...]`, `@[...]`         `@[csimp]`, `@[implemented_by]`, `@[extern]`,
                                    `@[simp]`/`@[instance]` on an auxiliary change evaluation or
                                    elaboration of everything after it

`implemented_by`, `extern`          replaces the code `native_decide`/`#eval` runs with
                                    arbitrary code

`unsafe`, `partial`                 escapes the kernel's termination/safety checks (`partial` is
                                    an opaque with an unsafe implementation)

`noncomputable`                     harmless to the kernel, but no auxiliary proof needs it and
                                    it hides a definition from the compiler `native_decide` runs;
                                    rejected as a modifier with no honest use here

`set_option debug.*` (also          `debug.skipKernelTC` switches the kernel check off: nothing
`«debug».x`)                        printed afterwards would reveal it

`#exit`, `#eval`, `#print`,         end the file early (the target is never elaborated) or run
`#guard_msgs`                       code at elaboration time

`run_cmd`, `run_tac`, `run_elab`,   a metaprogram can add a constant to the environment without
`run_meta`, `by_elab`, `elab`,      the kernel (`addDeclWithoutChecking`) or rewrite what
`elab_rules`, `macro`,              `#check`/`#print axioms` see: no later check can be trusted
`macro_rules`, `syntax`,            after one ran
`declare_syntax_cat`,
`initialize`,
`builtin_initialize`,
`register_option`,
`register_simp_attr`

`notation`, `infix`, `infixl`,      redefines syntax, so the restated statement reads the same
`infixr`, `prefix`, `postfix`,      and means something else
`binder_predicate`

Lemma style (`find_forbidden_completion`): the completion's declarations are `theorem`,
`lemma`, `def` or `abbrev` (modifiers `private`/`protected` allowed, no attributes), the last one
is the target (its name, qualified with the header's namespace, is the statement's) and is a
`theorem`/`lemma`. Restating the target with another statement fails the statement check
(`statement`); declaring it twice is Lean's "has already been declared" error (`error`).

Allowed: ordinary tactics and terms, `open`, `open ... in`, `set_option` (`... in` or not) for any
option outside `debug.*` (the check commands set every pretty-printer option they rely on),
`native_decide` (the axiom check rejects the `Lean.ofReduceBool` it depends on), `#check` and
Mathlib's `#s` card notation. All the words above are Lean keywords, so an identifier cannot
spell them by accident; dotted names (`Nat.def`, `List.prefix`) are not matched.
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


_DECLARATION = re.compile(_kw("theorem", "lemma", "def", "abbrev"))
_DECL_NAME = re.compile(r"\s+([^\s(){}\[\]⦃⦄:,]+)")

# (pattern, why) — the construct's name in a violation is the matched text.
_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(_kw("sorry", "admit")), "leaves the goal unproved"),
    (re.compile(r"sorryAx" + _AFTER), "leaves the goal unproved"),
    (re.compile(_kw("axiom", "opaque")), "declares a constant without proof"),
    (re.compile(_kw("instance", "example", "structure", "class", "inductive", "mutual", "deriving")),
     "adds a declaration other than an auxiliary theorem, lemma, def or abbrev"),
    (re.compile(_kw("variable", "include", "omit")), "adds hypotheses to later declarations"),
    (re.compile(_kw("namespace")), "opens a namespace (names could then resolve to another constant)"),
    (re.compile(_kw("attribute") + r"(?:\s*\[[^\]\n]*\]?)?"), "changes attributes"),
    (re.compile(r"@\[[^\]\n]*\]?"), "changes attributes"),
    (re.compile(_kw("implemented_by", "extern")), "replaces an implementation"),
    (re.compile(_kw("unsafe", "partial", "noncomputable")), "escapes the kernel's checks"),
    (re.compile(_BEFORE + r"set_option\s+(?:debug|«debug)(?![\w'])(?:»?\.(?:«[^»\n]*»|[\w.']+))*»?"),
     "switches off a check (debug option)"),
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
    """Every forbidden construct in `code[start:end]`, in order of position: the proof that
    follows a given statement, where any declaration is forbidden.

    The whole of `code` is masked first (so a comment opened before `start` is still a comment);
    positions are in `code`'s coordinates."""
    end = len(code) if end is None else end
    masked = mask(code)
    found = _scan(code, masked, start, end)
    for m in _DECLARATION.finditer(masked, start, end):
        _add(found, code, m.start(), m.end(), "adds a declaration after the proof")
    return [found[k] for k in sorted(found)]


_COMMAND_START = re.compile(r"@\[|" + _kw(
    "theorem", "lemma", "def", "abbrev", "instance", "example", "axiom", "opaque", "structure", "class",
    "inductive", "noncomputable", "private", "protected", "partial", "unsafe", "mutual", "namespace", "section",
    "variable", "universe", "attribute", "macro", "macro_rules", "syntax", "notation", "elab", "run_cmd",
    "initialize") + r"|#\w+")


def starts_with_declaration(code: str) -> bool:
    """True when `code` (after comments and docstrings) starts with a command that declares
    something (`theorem`, `lemma`, `def`, an attribute, `axiom`, `instance`, a modifier, ...): a
    lemma-style completion, scanned whole by `find_forbidden_completion` (which then rejects
    whatever is not an allowed declaration). A proof term or tactic block never starts so."""
    masked = mask(code).lstrip()
    return _COMMAND_START.match(masked) is not None


def declarations(code: str) -> list[tuple[str, str, int]]:
    """(keyword, name as written, offset) of every theorem/lemma/def/abbrev in `code`."""
    masked = mask(code)
    out = []
    for m in _DECLARATION.finditer(masked):
        name = _DECL_NAME.match(masked, m.end())
        out.append((m.group(), name.group(1).rstrip(".") if name else "", m.start()))
    return out


def find_forbidden_completion(code: str, target: str, namespace: str = "") -> list[Violation]:
    """Every forbidden construct in a lemma-style completion (see the module docstring): the
    rules of `find_forbidden` except that theorem/lemma/def/abbrev declarations may come before the
    target, which must be the last declaration and a theorem or lemma. `target` is the statement's
    fully qualified name; declared names are qualified with `namespace`."""
    masked = mask(code)
    found = _scan(code, masked, 0, len(code))
    decls = declarations(code)
    names = [_qualify(namespace, name) for _, name, _ in decls]
    if target in names:
        last_target = len(names) - 1 - names[::-1].index(target)
        keyword, _, at = decls[last_target]
        if keyword not in ("theorem", "lemma"):
            _add(found, code, at, at + len(keyword), "the target must be declared by `theorem` or `lemma`")
        for keyword, _, at in decls[last_target + 1:]:
            _add(found, code, at, at + len(keyword), "declares something after the target")
    return [found[k] for k in sorted(found)]


def _qualify(namespace: str, name: str) -> str:
    if name.startswith("_root_."):
        return name[len("_root_."):]
    return f"{namespace}.{name}" if namespace else name


def _add(found: dict, code: str, start: int, end: int, why: str) -> None:
    if start not in found:
        line, column = line_col(code, start)
        found[start] = Violation(" ".join(code[start:end].split()), line, column, why)


def _scan(code: str, masked: str, start: int, end: int) -> dict[int, "Violation"]:
    found: dict[int, Violation] = {}
    for pattern, why in _RULES:
        for m in pattern.finditer(masked, start, end):
            _add(found, code, m.start(), m.end(), why)  # the text as written, not masked
    return found


def describe(violations: list[Violation], limit: int = 3) -> str:
    """A one-line summary for `Verdict.detail`."""
    parts = [v.describe() for v in violations[:limit]]
    more = len(violations) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
