"""One problem file format for every benchmark, and the converters that produce it.

A problem file is JSONL, one `Problem` record a line (see `data/README.md`):

    {"name": "...", "split": "test", "header": "import Mathlib\\n", "context": "",
     "formal_statement": "theorem NAME ... :=", "informal_statement": "...", "informal_proof": ""}

`formal_statement` ends in `:=` or `:= by`; `context` is Lean code the statement needs (an answer
`abbrev`, a helper `def`), checked between the header and the statement as given code.

`convert(SRC)` reads, by what SRC is:
  - a folder: every `.lean` file below it, one `theorem … := sorry` each (`from_lean_file`);
  - `*.jsonl`: MiniF2F-style rows (`name, split, informal_prefix, formal_statement, header`:
    MiniF2F and ProofNet), or rows that already are problem records;
  - `*.json`: a TheoremLlama-style array (`Name, Statement, Proof, Informal_statement,
    Informal_proof`), checked under the MiniF2F header unless a row has its own `header`.
Every problem that cannot be converted is reported with its file (and line) and the reason;
nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from theoremllama.data.formats import iter_json_array
from theoremllama.data.jsonl import atomic_write_text, iter_jsonl_lines
from theoremllama.data.minif2f import docstring_text, has_sorry
from theoremllama.data.records import Problem
from theoremllama.errors import InputError, UserError
from theoremllama.lean.header import split_header
from theoremllama.lean.syntax import DOC_COMMENT, mask, spans, top_level_assign

MINIF2F_HEADER = ("import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\n"
                  "open BigOperators Real Nat Topology Rat\n\n")
"""The header of the shipped MiniF2F problems: TheoremLlama's JSON files carry none."""
DEFAULT_SPLIT = "test"
"""The split given to problems of a source that has none (override with `--split`)."""

# A command keyword at the start of a line, after optional attributes and modifiers.
_COMMAND = re.compile(
    r"^(?P<mods>(?:@\[[^\]\n]*\][ \t]*)?(?:(?:private|protected|noncomputable|nonrec|unsafe|partial)[ \t]+)*)"
    r"(?P<kw>theorem|lemma|example|def|abbrev|instance|structure|inductive|class|axiom|opaque|"
    r"namespace|section|end|open|variable|universe|import|set_option|notation|macro|syntax|#\w+)(?![\w.'])",
    re.MULTILINE)
_THEOREM_NAME = re.compile(r"\s+(?P<name>[^\s(){}\[\]⦃⦄:,]+)")
_SORRY_PROOF = re.compile(r"^\s*(?:by\s+)?sorry\s*$")
_ENDS_ASSIGN = re.compile(r":=(?:\s*by)?\s*$")


@dataclass
class Conversion:
    """What `convert` made of a source."""

    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """`FILE[:LINE]: NAME: reason` for every problem that could not be converted."""
    notes: list[str] = field(default_factory=list)
    """Changes made to a problem that was converted (e.g. an answer filled in from a comment)."""

    def keep(self, p: Problem, where: str) -> None:
        """Add `p` to the problems if it is a valid problem record, else say why it was skipped."""
        why = check_problem(p)
        if why is None:
            self.problems.append(p)
        else:
            self.skipped.append(f"{where}: {p.name or '?'}: {why}")


# ------------------------------------------------------------------------------ the format


def check_problem(p: Problem) -> str | None:
    """Why `p` is not a valid problem record (None when it is)."""
    if not p.name.strip():
        return "empty name"
    if not _ENDS_ASSIGN.search(mask(p.formal_statement)):
        return "formal_statement must end in ':=' or ':= by'"
    if not re.search(r"(?m)^\s*(?:@\[[^\]]*\]\s*)?(?:theorem|lemma)\s", mask(p.formal_statement)):
        if re.match(r"\s*(?:noncomputable\s+)?(?:def|abbrev|instance)\s", mask(p.formal_statement)):
            return "a definition (data to construct, not a proposition to prove): only theorems can be checked"
        return "formal_statement must be a `theorem` or `lemma` declaration"
    return None


def read_problems(path: str | Path) -> list[Problem]:
    """Read a problem file; any bad line stops with an `InputError` naming the line and field."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such problem file")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for d, line in iter_jsonl_lines(path):
        try:
            p = Problem.from_dict(d)
        except InputError as e:
            raise InputError(e.reason, path=str(path), line=line, field=e.field) from None
        why = check_problem(p)
        if why is not None:
            raise InputError(why, path=str(path), line=line,
                             field="name" if why == "empty name" else "formal_statement")
        if p.name in seen:
            raise InputError(f"problem {p.name!r} already defined on line {seen[p.name]}", path=str(path),
                             line=line, field="name")
        seen[p.name] = line
        problems.append(p)
    if not problems:
        raise InputError("no problems in the file", path=str(path))
    return problems


# ------------------------------------------------------------------------------ converters


def convert(src: str | Path, *, split: str | None = None) -> Conversion:
    """Convert a benchmark (folder of .lean files, MiniF2F-style JSONL, TheoremLlama JSON).

    With `split`, a source that names splits keeps only that split; a source without splits
    labels its problems with it (default `test`)."""
    src = Path(src)
    if src.is_dir():
        out = Conversion()
        files = sorted(src.rglob("*.lean"))
        if not files:
            raise UserError(f"{src}: no .lean files in this folder")
        for f in files:
            from_lean_file(f, split or DEFAULT_SPLIT, out, root=src)
    elif src.suffix in (".jsonl", ".ndjson"):
        out = _from_jsonl(src)
        _rename_duplicates(out)  # before the split is chosen: a problem's name never depends on it
        if split is not None:
            out.problems = [p for p in out.problems if p.split == split]
        return out
    elif src.suffix == ".json":
        out = _from_theoremllama_json(src, split or DEFAULT_SPLIT)
    elif not src.exists():
        raise UserError(f"{src}: no such file or folder")
    else:
        raise UserError(f"{src}: unknown source (a folder of .lean files, a .jsonl or a .json file)")
    _rename_duplicates(out)
    return out


def _rename_duplicates(out: Conversion) -> None:
    """Distinct problems sharing a name (ProofNet: the same exercise number in two textbooks) get
    `NAME__2`, `NAME__3`, ... in file order; the theorem they declare is unchanged."""
    count: dict[str, int] = {}
    taken = {p.name for p in out.problems}
    for p in out.problems:
        count[p.name] = count.get(p.name, 0) + 1
        if count[p.name] > 1:
            k = count[p.name]
            while f"{p.name}__{k}" in taken:
                k += 1
            new = f"{p.name}__{k}"
            out.notes.append(f"{p.name}: another problem has this name: this one (split {p.split}) is {new}")
            taken.add(new)
            p.name = new


def _from_jsonl(path: Path) -> Conversion:
    out = Conversion()
    for d, line in iter_jsonl_lines(path):
        where = f"{path}:{line}"
        if not isinstance(d, dict):
            out.skipped.append(f"{where}: not a JSON object")
            continue
        name = d.get("name")
        if "informal_prefix" in d or "goal" in d:  # MiniF2F-style
            missing = [k for k in ("name", "split", "formal_statement", "header") if not isinstance(d.get(k), str)]
            if missing:
                out.skipped.append(f"{where}: {name or '?'}: field {missing[0]!r} missing or not a string")
                continue
            p = Problem(name=d["name"], split=d["split"], header=d["header"],
                        formal_statement=d["formal_statement"].rstrip(),
                        informal_statement=docstring_text(d.get("informal_prefix") or ""),
                        informal_proof=(d.get("informal_proof") or "").strip())
        else:  # already a problem record
            try:
                p = Problem.from_dict(d)
            except InputError as e:
                out.skipped.append(f"{where}: {name or '?'}: field {e.field!r}: {e.reason}")
                continue
        out.keep(p, where)
    return out


def _from_theoremllama_json(path: Path, split: str) -> Conversion:
    out = Conversion()
    for d, line in iter_json_array(str(path)):
        where = f"{path}:{line}"
        if not isinstance(d, dict):
            out.skipped.append(f"{where}: not a JSON object")
            continue
        missing = [k for k in ("Name", "Statement") if not isinstance(d.get(k), str) or not d[k].strip()]
        if missing:
            out.skipped.append(f"{where}: {d.get('Name') or '?'}: field {missing[0]!r} missing or empty")
            continue
        proof = d.get("Proof") if isinstance(d.get("Proof"), str) else ""
        p = Problem(name=d["Name"], split=d.get("split") if isinstance(d.get("split"), str) else split,
                    header=d.get("header") if isinstance(d.get("header"), str) else MINIF2F_HEADER,
                    formal_statement=d["Statement"].rstrip(),
                    informal_statement=(d.get("Informal_statement") or "").strip(),
                    informal_proof=(d.get("Informal_proof") or "").strip(),
                    reference_proof="" if not proof or has_sorry(proof) else proof)
        out.keep(p, where)
    return out


def from_lean_file(path: Path, split: str, out: Conversion, *, root: Path | None = None) -> None:
    """One `.lean` file -> one problem (appended to `out.problems`), or a line in `out.skipped`.

    The file: imports / `open` / `set_option` lines (the header), then any definitions the
    theorem needs (the context: `def`, `abbrev`, `namespace`, further `open`s, ...), then one
    `theorem NAME ... := sorry`, optionally with a docstring (the informal statement). A theorem
    inside `namespace X` is the problem `X.NAME`: its statement is written `theorem X.NAME ...`
    at the top level (Lean elaborates it inside X), and the context closes X before it."""
    where = str(path.relative_to(root)) if root is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        out.skipped.append(f"{where}: cannot be read ({e})")
        return
    masked = mask(text)
    commands = list(_COMMAND.finditer(masked))
    theorems = [m for m in commands if m.group("kw") in ("theorem", "lemma")]
    if not theorems:
        examples = [m for m in commands if m.group("kw") == "example"]
        why = "an `example` has no name: state it as `theorem NAME ...`" if examples else "no theorem in the file"
        out.skipped.append(f"{where}: {why}")
        return
    if len(theorems) > 1:
        names = [_name_at(masked, text, m) for m in theorems]
        out.skipped.append(f"{where}: {len(theorems)} theorems ({', '.join(names)}): one problem per file expected")
        return
    thm = theorems[0]
    name = _name_at(masked, text, thm)
    assign = top_level_assign(masked, thm.end())
    if assign is None:
        out.skipped.append(f"{where}: {name}: the theorem has no `:=`")
        return
    # The proof runs to the next command (an `end X` closing the theorem's namespace, say).
    after = next((m for m in commands if m.start() > assign), None)
    proof = text[assign + 2: after.start() if after else len(text)].strip()
    rest = [m for m in commands if m.start() > assign]
    stray = [m.group("kw") for m in rest if m.group("kw") != "end"]
    if stray:
        out.skipped.append(f"{where}: {name}: `{stray[0]}` after the theorem: one theorem per file, nothing after it")
        return

    prefix, docstring = _split_docstring(text[:thm.start()])
    split_code = split_header(prefix)
    header, context = split_code.header, split_code.body
    # Namespaces still open at the theorem: close them in the context, name the theorem in full.
    open_ns = _open_namespaces(mask(context))
    statement = text[thm.start(): assign].rstrip() + " :="
    if open_ns:
        full = ".".join(open_ns + [name])
        head = _THEOREM_NAME.match(text, thm.end())
        statement = text[thm.start():head.start("name")] + full + text[head.end("name"):assign].rstrip() + " :="
        context = context.rstrip() + "\n" + "".join(f"end {ns}\n" for ns in reversed(open_ns))
        name = full
    context, problem = _fill_answers(context, where, name, out)
    if problem is not None:
        out.skipped.append(problem)
        return
    p = Problem(name=name, split=split, header=header, formal_statement=statement,
                context=context.strip() + "\n" if context.strip() else "",
                informal_statement=docstring,
                reference_proof="" if _SORRY_PROOF.match(mask(proof)) else f"{statement} {proof}")
    out.keep(p, where)


def _name_at(masked: str, text: str, m: re.Match) -> str:
    head = _THEOREM_NAME.match(masked, m.end())
    return text[head.start("name"):head.end("name")] if head else "?"


def _split_docstring(prefix: str) -> tuple[str, str]:
    """(the code before the theorem without its docstring, the docstring's text)."""
    tail = prefix.rstrip()
    docs = [s for s in spans(tail) if s.kind == DOC_COMMENT]
    if docs and docs[-1].end == len(tail):
        doc = docs[-1]
        return prefix[:doc.start], docstring_text(prefix[doc.start:doc.end])
    return prefix, ""


def _open_namespaces(masked_context: str) -> list[str]:
    """The namespaces opened (and not closed) by the code, outermost first."""
    stack: list[str] = []
    for m in re.finditer(r"(?m)^(namespace|section|end)(?:[ \t]+(\S+))?", masked_context):
        kw, arg = m.group(1), m.group(2) or ""
        if kw == "end":
            if stack:
                stack.pop()
        else:
            stack.append(arg if kw == "namespace" else "")
    if any(ns == "" for ns in stack):  # an open section holds variables: keep them
        return [ns for ns in stack if ns]
    return stack


# `abbrev NAME : T := sorry` followed by `-- ANSWER` on the next line (PutnamBench's layout).
_SORRY_DEF = re.compile(r"(?m)^(?P<decl>(?:noncomputable\s+)?(?:abbrev|def)\s+(?P<name>\S+)[^\n]*?:=)[ \t]*"
                        r"(?:\n[ \t]*)?sorry[ \t]*\n(?P<answer>[ \t]*--[^\n]*)?")


def _fill_answers(context: str, where: str, theorem: str, out: Conversion) -> tuple[str, str | None]:
    """A definition given as `sorry` is an answer to find. Where the file writes the answer in
    a comment right after it (PutnamBench), the answer is filled in (and noted); otherwise the
    problem cannot be checked as given code, and the reason is returned."""
    masked = mask(context, comments=False)
    parts, done = [], 0
    for m in _SORRY_DEF.finditer(masked):
        if m.group("answer") is None:
            return context, (f"{where}: {theorem}: `{m.group('name')}` is defined as `sorry` and no answer "
                             "is given (a comment on the next line): it cannot be checked as given code")
        answer = context[m.start("answer"):m.end("answer")].strip()[2:].strip()
        parts.append(context[done:m.start()] + f"{context[m.start('decl'):m.end('decl')]}\n  {answer}\n")
        done = m.end()
        out.notes.append(f"{where}: {theorem}: `{m.group('name')}` := sorry filled with the answer "
                         f"given in the comment: {answer}")
    parts.append(context[done:])
    filled = "".join(parts)
    if re.search(r"(?<![\w.'])sorry(?![\w'])", mask(filled)):
        return context, f"{where}: {theorem}: the code before the theorem uses `sorry`"
    return filled, None


def write_problems(problems: list[Problem], path: str | Path) -> None:
    """Write a problem file atomically."""
    atomic_write_text(path, "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in problems))
