"""Theorems from the Lean 4 sources of any repository, without a Lean toolchain.

    extract_repo("mathlib4") -> ExtractResult(records=[TheoremRecord, ...], skipped=Counter(...), ...)

This is a lexical extractor: it reads `.lean` files as text (comments and literals located by
`theoremllama.lean.syntax`) and tracks just enough of Lean's command structure to name each
theorem and give the context it needs to be re-elaborated. The paper's own path, tracing with
LeanDojo, is `theoremllama.data.dojo` (it needs a Lean toolchain and builds the repository).

How a file is cut into commands
-------------------------------
A command starts at column 0 with a command keyword (`theorem`, `lemma`, `def`, `instance`,
`example`, `namespace`, `section`, `end`, `open`, `variable`, `universe`, `import`,
`set_option`, `attribute`, a modifier such as `private`, ...), an attribute `@[`, a docstring
`/--` or `/-!`, or a `#command`. Keywords are only recognised outside comments and literals. A
command runs until the next command starts. A docstring, attributes and modifiers belong to the
command whose keyword follows them. The text of a declaration ends at its last code character
before the next command: trailing blank lines and comments between declarations are not part of it.

Limits of the rule (all hold for Mathlib, whose style linters enforce them): a declaration that
does not start at column 0 (e.g. indented inside `mutual`) is not extracted but counted in
`skipped` as `theorem not at column 0`; a line of a proof that starts at column 0 with a command
keyword would cut the proof short; code produced by macros (`alias`, `to_additive`, ...) is not
seen (LeanDojo sees it).

A theorem's statement ends at the declaration's own `:=` (not at one of a `let`/`have`/`haveI`/
`letI` inside its type, a binder default or a structure instance), at `where`, or at its first
`| pattern => ...` alternative: `theoremllama.lean.syntax.statement_end`, the finder job
preparation and proof extraction use too. Each record says whether its code holds a `sorry`
(`TheoremRecord.has_sorry`).

Names and context
-----------------
- Names are qualified with the namespace in force: `namespace A.B` opens the scopes `A` and `B`,
  `end B` closes one, `end A.B` two; `section`s nest the same way and do not change the namespace;
  `theorem foo.bar` in `A` is `A.foo.bar`; `_root_.foo` is `foo`.
- `protected theorem foo` in `A` is recorded as `A.foo` (its real name; `protected` only means
  it is not reachable as `foo` after `open A`).
- `private theorem foo` in `A` is recorded as `A.foo`: the name written in the source, the one a
  re-elaborated copy of the theorem gets. (Lean's internal name for it is
  `_private.<Module>.0.A.foo`, which cannot be referred to from another file.)
- Quoted names keep their guillemets as written (`«weird name»`), so they can be pasted back.
- `opens`, `variables` (with `include`/`omit`) and `universes` are the commands in force at the
  declaration, as written, scoped to the section/namespace they appear in; `open X in` and
  `variable ... in` before a declaration apply to it alone. `set_option ... in` and
  `attribute [...] ... in` before a theorem are not recorded (they change neither its name nor
  the meaning of its statement).
"""

from __future__ import annotations

import bisect
import os
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from theoremllama.data.records import TheoremRecord
from theoremllama.errors import UserError
from theoremllama.lean import syntax

# Directories never walked into: build outputs and dependency checkouts.
SKIP_DIRS = frozenset({".lake", "lake-packages", "build", ".git", "_target", "node_modules", ".cache"})

THEOREM_KEYWORDS = frozenset({"theorem", "lemma"})
# Declarations that are not theorems: counted in `skipped` under their keyword.
OTHER_DECLARATIONS = frozenset({
    "def", "abbrev", "instance", "example", "structure", "class", "inductive", "coinductive",
    "axiom", "opaque", "irreducible_def", "alias", "mutual",
})
MODIFIERS = ("private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "scoped",
             "local", "public", "meta")
COMMAND_KEYWORDS = THEOREM_KEYWORDS | OTHER_DECLARATIONS | frozenset(MODIFIERS) | frozenset({
    "namespace", "section", "end", "open", "variable", "universe", "import", "module", "prelude",
    "set_option", "attribute", "export", "omit", "include", "macro", "macro_rules", "syntax",
    "notation", "infix", "infixl", "infixr", "prefix", "postfix", "elab", "elab_rules",
    "declare_syntax_cat", "initialize", "builtin_initialize", "deriving", "add_decl_doc",
    "assert_not_exists", "assert_not_imported", "library_note", "suppress_compilation", "unseal",
    "seal", "compile_inductive", "run_cmd", "register_option", "register_simp_attr", "simproc",
    "dsimproc", "unif_hint", "binder_predicate", "notation3", "initialize_simps_projections",
})
# Commands that may end in `in`, scoping them to the one command that follows.
PREFIXABLE = frozenset({"open", "set_option", "variable", "omit", "include", "attribute", "#guard_msgs"})

_KW_ALTERNATION = "|".join(sorted((re.escape(k) for k in COMMAND_KEYWORDS), key=len, reverse=True))
# A command start: column 0, in the masked text (see `_command_mask`).
_START = re.compile(rf"^(?:@\[|/--|/-!|#[A-Za-z_]|(?:{_KW_ALTERNATION})(?![\w'!?.]))", re.M)
# Docstring, attributes and modifiers in front of a keyword (one level of nested brackets).
_HEAD = re.compile(
    r"(?:/--\s*|/-!\s*)?"
    r"(?:@\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\]\s*)*"
    rf"(?:(?:{'|'.join(MODIFIERS)})\s+)*"
    r"(?P<kw>#?[^\W\d][\w!?]*)?")
_IN = re.compile(r"\bin\b")
_NAME_PART = r"(?:«[^»\n]*»|[^\s.«»()\[\]{}⦃⦄⟨⟩:,@|]+)"
_NAME = re.compile(rf"{_NAME_PART}(?:\.{_NAME_PART})*")
_NAME_COMPONENT = re.compile(r"«[^»]*»|[^.]+")
_NOT_NEWLINE = re.compile(r"[^\n]")
_INDENTED_THEOREM = re.compile(
    rf"^[ \t]+(?:@\[[^\n]*\]\s*)?(?:(?:{'|'.join(MODIFIERS)})\s+)*(?:theorem|lemma)\s", re.M)


@dataclass
class ExtractResult:
    """What `extract_repo` found, and what it left out and why."""

    records: list[TheoremRecord]
    """One record per `theorem`/`lemma`, in file order (files sorted by path)."""
    skipped: Counter = field(default_factory=Counter)
    """Declarations not extracted, counted per reason (`def`, `instance`, `malformed theorem`, ...)."""
    files: int = 0
    """Number of `.lean` files read."""
    bytes: int = 0
    """Total size of those files in bytes."""
    seconds: float = 0.0
    """Wall-clock time of the extraction."""

    def summary(self) -> str:
        rate = self.bytes / 1e6 / self.seconds if self.seconds else 0.0
        lines = [f"{len(self.records)} theorems from {self.files} files ({self.bytes / 1e6:.1f} MB) "
                 f"in {self.seconds:.1f} s ({rate:.1f} MB/s)"]
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{k}: {v}" for k, v in self.skipped.most_common()))
        return "\n".join(lines)


@dataclass
class _Scope:
    """One `namespace`/`section`/`mutual` level: what was opened inside it dies with it."""

    kind: str
    header: str
    namespace: str
    opens: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    universes: list[str] = field(default_factory=list)


def _command_mask(text: str) -> str:
    """`syntax.mask`, except that docstrings keep their `/--` or `/-!` opener visible: a
    docstring at column 0 starts a command."""
    parts = []
    done = 0
    for s in syntax.spans(text):
        if s.kind == syntax.CODE:
            continue
        lo, hi = s.start, s.end
        if s.kind in (syntax.STRING, syntax.CHAR):
            lo, hi = lo + 1, (hi - 1 if hi - lo > 1 else hi)
        elif s.kind == syntax.DOC_COMMENT:
            lo += 3
        parts.append(text[done:lo])
        seg = text[lo:hi]
        parts.append(_NOT_NEWLINE.sub(" ", seg) if "\n" in seg else " " * len(seg))
        done = hi
    parts.append(text[done:])
    return "".join(parts)


def _components(name: str) -> list[str]:
    return _NAME_COMPONENT.findall(name)


def _qualify(namespace: str, name: str) -> str:
    if name.startswith("_root_."):
        return name[len("_root_."):]
    return f"{namespace}.{name}" if namespace else name


def _scoped_prefix(masked: str, kpos: int, cend: int) -> int | None:
    """For `open X in`, `set_option o v in`, ...: the offset just after `in`, else None.

    `in` counts only when what follows it is nothing (the next command is the scoped one) or
    another command on the same line (`open Nat in theorem ...`)."""
    for m in _IN.finditer(masked, kpos, cend):
        rest = masked[m.end():cend].lstrip()
        if not rest:
            return m.end()
        head = _HEAD.match(rest)
        if head.group("kw") in COMMAND_KEYWORDS or rest.startswith(("@[", "/--")):
            return m.end()
    return None


def extract_text(text: str, file_path: str = "", commit: str = "") -> tuple[list[TheoremRecord], Counter]:
    """The theorems of one Lean file's text, and the skipped declarations counted per reason."""
    masked = _command_mask(text)
    n = len(text)
    starts = [m.start() for m in _START.finditer(masked)]
    records: list[TheoremRecord] = []
    skipped: Counter = Counter()
    imports: list[str] = []
    scopes = [_Scope("root", "", "")]
    pending: list[tuple[str, str]] = []  # `open ... in` etc. waiting for their command

    skipped_indented = len(_INDENTED_THEOREM.findall(masked))
    if skipped_indented:
        skipped["theorem not at column 0"] += skipped_indented

    line_at, line = 0, 1  # line numbers counted incrementally: one pass over the file
    p = starts[0] if starts else n
    while p < n:
        head = _HEAD.match(masked, p)
        kw = head.group("kw")
        kpos = head.start("kw") if kw else head.end()
        k = bisect.bisect_right(starts, kpos)
        cend = starts[k] if k < len(starts) else n
        if not kw or (kw not in COMMAND_KEYWORDS and not kw.startswith("#")):
            p = cend  # a lone docstring/attribute, or a keyword we do not know: nothing to record
            continue
        if kw in PREFIXABLE:
            after_in = _scoped_prefix(masked, kpos, cend)
            if after_in is not None:
                written = text[kpos:after_in - 2].rstrip()
                pending.append((kw, written))
                rest = len(masked[after_in:cend]) - len(masked[after_in:cend].lstrip())
                p = after_in + rest if after_in + rest < cend else cend
                continue
        code_end = kpos + len(masked[kpos:cend].rstrip())  # trailing comments and blank lines dropped
        written = text[kpos:code_end]
        scope = scopes[-1]
        if kw == "namespace" or kw == "section":
            name = written[len(kw):].strip()
            for header in (_components(name) if name else [""]):
                ns = scopes[-1].namespace
                if kw == "namespace":
                    ns = f"{ns}.{header}" if ns else header
                scopes.append(_Scope(kw, header, ns))
        elif kw == "mutual":
            scopes.append(_Scope("mutual", "", scope.namespace))
            skipped["mutual"] += 1
        elif kw == "end":
            name = written[3:].strip()
            for _ in range(len(_components(name)) if name else 1):
                if len(scopes) > 1:
                    scopes.pop()
        elif kw == "open":
            scope.opens.append(written)
        elif kw in ("variable", "include", "omit"):
            scope.variables.append(written)
        elif kw == "universe":
            scope.universes.append(written)
        elif kw == "import":
            imports.extend(t for t in written.split()[1:] if t != "all")
        elif kw in THEOREM_KEYWORDS:
            line += text.count("\n", line_at, kpos)
            line_at = kpos
            record = _theorem(text, masked, kw, kpos, code_end, scopes, pending, imports, file_path, commit, line)
            if record is None:
                skipped["malformed theorem"] += 1
            else:
                records.append(record)
        elif kw in OTHER_DECLARATIONS:
            skipped[kw] += 1
        pending = []
        p = cend
    return records, skipped


def _theorem(text: str, masked: str, kw: str, kpos: int, code_end: int, scopes: list[_Scope],
             pending: list[tuple[str, str]], imports: list[str], file_path: str,
             commit: str, line: int) -> TheoremRecord | None:
    name_at = kpos + len(kw)
    while name_at < code_end and text[name_at].isspace():
        name_at += 1
    m = _NAME.match(text, name_at, code_end)
    if not m:
        return None
    end = syntax.statement_end(masked, m.end(), code_end)
    if end is None:
        return None
    statement = text[kpos:end.after].rstrip()
    namespace = scopes[-1].namespace
    return TheoremRecord(
        name=_qualify(namespace, m.group()),
        statement=statement,
        proof=text[kpos:code_end],
        file_path=file_path,
        commit=commit,
        imports=list(imports),
        opens=[o for s in scopes for o in s.opens] + [w for k, w in pending if k == "open"],
        variables=[v for s in scopes for v in s.variables]
        + [w for k, w in pending if k in ("variable", "include", "omit")],
        universes=[u for s in scopes for u in s.universes],
        namespace=namespace,
        kind=kw,
        line=line,
    )


def git_commit(repo: str | Path) -> str:
    """`git rev-parse HEAD` of a checkout, or '' when it is not a git repository."""
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def lean_files(root: Path) -> list[Path]:
    """The `.lean` files under `root`, sorted, skipping build outputs and dependencies."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found.extend(Path(dirpath) / f for f in filenames if f.endswith(".lean"))
    return sorted(found)


def extract_repo(path: str | Path, commit: str | None = None, *, progress: bool = False) -> ExtractResult:
    """Every `theorem`/`lemma` in the `.lean` files of a checkout (or of one `.lean` file).

    `commit` defaults to the checkout's git HEAD ('' when it is not a git repository).
    `progress` shows a tqdm bar over the files (on a terminal)."""
    t0 = time.perf_counter()
    root = Path(path)
    if not root.exists():
        raise UserError(f"{root}: no such directory")
    if commit is None:
        commit = git_commit(root if root.is_dir() else root.parent)
    files = [root] if root.is_file() else lean_files(root)
    base = root.parent if root.is_file() else root
    result = ExtractResult(records=[])
    from tqdm import tqdm

    for f in tqdm(files, desc="extract", unit="file", disable=None if progress else True):
        try:
            raw = f.read_bytes()
            text = raw.decode("utf-8-sig")  # a byte-order mark would hide the first command
        except (OSError, UnicodeDecodeError):
            result.skipped["unreadable file"] += 1
            continue
        result.files += 1
        result.bytes += len(raw)
        records, skipped = extract_text(text, f.relative_to(base).as_posix(), commit)
        result.records.extend(records)
        result.skipped.update(skipped)
    result.seconds = time.perf_counter() - t0
    return result
