#!/usr/bin/env python3
"""A semantic test double of the Lean REPL: NOT Lean, a few rules on the code's text.

Used only by tests (the verifier's, the evaluation's and the bootstrapping's); the product never
runs it, and it imports nothing from `theoremllama` (it has its own small lexer, `mask`): a double
that shared the product's code would agree with the product's bugs. Start it as
`[sys.executable, "tests/support/fake_lean_repl.py"]`. It models Lean/REPL v4.24.0, the version
the project pins; where each reply shape comes from is said below.

Wire protocol: exactly the real REPL's (leanprover-community/repl), as recorded in
`tests/fixtures/repl_transcripts_v4.24.0/*.expected.out` (tests compare the double's replies to
those recordings): a request is JSON lines up to a blank line (the lines are trimmed and joined,
as the REPL does); a reply is pretty-printed JSON then a blank line; `env` numbers count from 0 in
each process, one per command (even a failing one); `sorries` and `messages` appear only when
non-empty, in the REPL's key order (sorries, messages, env); `{"cmd": code}` starts from an empty
environment and may import, `{"cmd": code, "env": n}` builds on environment n and may not import;
an unknown n gets `{"message": "Unknown environment."}`; any other request gets a `{"message": ...}`
refusal.

Rules (the code is read with comments and string contents masked, like Lean's lexer would):
1. Commands start at column 0 with a command keyword (`import`, `open`, `set_option`, `theorem`,
   `lemma`, `axiom`, `namespace`, `end`, `#print`, `#check`, `def`, `example`, ...). Text before
   the first one gets the error "unexpected token; expected command".
2. Environments map full names to declarations (elaborated type text, universe parameters, axioms
   used) and remember the open namespaces (like the real REPL, an env keeps the scopes its command
   left open).
3. `theorem|lemma|def|abbrev NAME binders : type := value` declares NAME (prefixed by the open
   namespaces; `_root_.NAME` declares in the root). Its "elaborated type" is the
   whitespace-normalised text of `binders : type`, with every identifier that names a declaration
   of the environment written as its full name (`pp.fullNames`, which `pp.all` turns on); its
   universe parameters are the `u` of `Sort u` / `Type u`. Its axioms: `propext,
   Classical.choice, Quot.sound`, except for a bare `rfl`/`decide`/`trivial` proof, which uses
   none (as in Lean, where `'t' does not depend on any axioms` for such proofs); plus
   `Lean.ofReduceBool` if the value contains `native_decide`; plus the axioms of every declaration
   of the env the value mentions, transitively (as `collectAxioms`, src/Lean/Util/CollectAxioms.lean,
   walks every constant a proof term uses: an auxiliary lemma's axioms reach the theorem that uses
   it); plus `sorryAx` when the value has a sorry or an error. Redeclaring a name gives the error
   "'NAME' has already been declared". Without `:=` the error is "unexpected end of input; expected ':='".
4. `axiom X : type` declares X, whose axioms are {X}. `namespace X` / `end X` open and close scopes.
5. `sorry` or `admit` in a proof: a `sorries` entry (goal `⊢ type`) per occurrence and the warning
   `declaration uses 'sorry'` at the theorem's name: REPL v4.24.0's spelling, as recorded in
   repl_transcripts_v4.24.0 (e.g. dup_sorries); v4.33 writes backticks instead.
   `double_old_sorry` in a proof: only that warning, no `sorries` entry (a sorry the sorries list
   does not show).
6. `double_error` or the tactic `fail` in a proof: an error "unsolved goals\n⊢ type" at that token.
7. `double_retype` in a proof: the theorem's elaborated type becomes `type ∧ True` (an environment
   in which the statement means something else, for the verifier's statement check).
8. Faults, for the harness: `double_hang` never answers; `double_crash` prints half a reply and
   exits with status 1; `double_garbage` prints a line that is not JSON, then the reply;
   `double_oom` writes "INTERNAL PANIC: out of memory" to stderr and exits 1;
   `double_sleep_<ms>` sleeps that many milliseconds before answering;
   `double_alloc_<mib>` really allocates that many MiB (under a smaller RLIMIT_AS, Python's
   MemoryError ends the process with status 1, as Lean's allocation failure would).
   `import Missing...` (a module whose name starts with `Missing`) gives an "unknown module" error.
   `double_silent_axioms` in a proof: `#print axioms` of that theorem prints nothing (not a Lean
   shape: a harness must not read silence as "no axioms"). `double_elided` in a proof: its type
   prints with a `⋯` whatever the options (a printer that still elides: the harness must refuse
   to compare such a type).
9. `#print axioms NAME` (or `_root_.NAME`), as `printAxiomsOf` in src/Lean/Elab/Print.lean writes
   it: info `'NAME' depends on axioms: [a, b, c]` (full name; the list sorted by `Name.lt`, i.e.
   `Name.cmp` of src/Lean/Data/Name.lean, which compares prefixes first: `[propext, sorryAx,
   Classical.choice, Quot.sound]`; formatted by `MessageData.ofList`, so a list longer than the
   120-column `format.width` breaks after every comma, continuation lines indented by one), or
   `'NAME' does not depend on any axioms`; or the error `unknown constant 'NAME'`.
10. `#check @NAME` is a term, not an identifier, so `elabCheckCore`
   (src/Lean/Elab/BuiltinCommand.lean) logs `m!"{e} : {type}"`: `NAME : ∀ binders, type`, with
   `@NAME` when NAME has implicit or instance binders (the explicit form `pp.explicit` prints for
   such a constant) and `NAME.{u, v}` when it has universe parameters (`delabConst` with
   `pp.universes`); a line longer than 120 columns breaks after `∀ binders,` with the body indented
   by two. `#check NAME` (an identifier) logs the signature form `NAME binders : type`, as recorded
   in repl_transcripts_v4.24.0 (`#check demo` -> `demo (a b : Nat) : a + b = b + a`). Unknown:
   the error "Unknown identifier `NAME`". Name lookup tries the open namespaces, innermost first,
   then the root; `_root_.` means the root. The type is cut after `pp.maxSteps` words (default
   5000, which `pp.all` does not raise: src/Lean/PrettyPrinter/Delaborator/Options.lean) and
   ends in `⋯`, unless a `set_option pp.maxSteps N in` in front of the `#check` raises it.
   The double does not render `pp.all`'s explicit forms (`@HAdd.hAdd ...`): equal statements print
   equal text, different ones different text, which is what the verifier relies on.
11. Everything else (`norm_num`, `linarith`, `simp`, `open`, `set_option`, ...) is accepted.
A true proof for the double is `by norm_num`; a false one `by double_error`.

With the environment variable FAKE_LEAN_REPL_LOG set, every request is appended to that file as
one JSON line `{"pid": ..., "request": ...}` (tests count header imports with it).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_AXIOMS = ("propext", "Classical.choice", "Quot.sound")
WIDTH = 120
"""`format.width`'s default: the column at which Lean's formatter breaks a message."""
DEFAULT_MAX_STEPS = 5000
"""`pp.maxSteps`'s default (src/Lean/PrettyPrinter/Delaborator/Options.lean); `pp.all` keeps it."""


# ---------------------------------------------------------------- the double's own lexer
# Enough of Lean's lexical rules to find code: `--` line comments, nesting `/- -/` block comments
# (docstrings are block comments too), string literals with backslash escapes, char literals
# (a `'` after an identifier character is a prime), `«...»` quoted names.

def mask(code: str, strings: bool = True) -> str:
    """`code` with comment text (and, if `strings`, string contents) replaced by spaces; same length
    and lines."""
    out = list(code)
    n, i = len(code), 0

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = code[i]
        if code.startswith("--", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif code.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if code.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif code.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            if strings:
                blank(i + 1, j)
            i = j + 1
        elif c == "'" and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] in "_'!?.")):
            m = re.compile(r"'(?:\\.|[^\\'\n])'").match(code, i)
            i = m.end() if m else i + 1
        elif c == "«":
            j = code.find("»", i)
            i = n if j < 0 else j + 1
        else:
            i += 1
    return "".join(out)


def line_col(code: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column), the REPL's convention for positions."""
    return code.count("\n", 0, offset) + 1, offset - (code.rfind("\n", 0, offset) + 1)
_ID = r"[^\s()\[\]{}⦃⦄:,@]+"
_COMMAND = re.compile(
    r"^(?:@\[[^\]\n]*\]\s*)?(?:(?:private|protected|noncomputable|unsafe)\s+)*"
    r"(import|open|set_option|theorem|lemma|axiom|namespace|end|section|#print|#check|#eval|#exit|"
    r"def|example|abbrev|instance|variable|universe|opaque|structure|class|inductive|attribute)"
    r"(?![\w.'])", re.M)


def _word(w: str) -> re.Pattern:
    return re.compile(rf"(?<![\w.']){w}(?![\w'])")


_SORRY = _word("(?:sorry|admit)")
_ERROR = _word("(?:double_error|fail)")
_AXIOM_FREE = re.compile(r"(?:by\s+)?(?:rfl|decide|trivial)")
_SLEEP = re.compile(r"double_sleep_(\d+)")
_ALLOC = re.compile(r"double_alloc_(\d+)")


@dataclass
class Decl:
    type: str
    """Normalised `binders : type` text, names of the environment's declarations fully qualified."""
    axioms: frozenset
    levels: tuple = ()
    """Universe parameters (`u` in `Sort u` / `Type u`)."""
    silent: bool = False
    """`#print axioms` prints nothing for it (the `double_silent_axioms` fault)."""


@dataclass
class Env:
    decls: dict = field(default_factory=dict)
    namespaces: list = field(default_factory=list)

    def copy(self) -> "Env":
        return Env(dict(self.decls), list(self.namespaces))

    def prefix(self) -> str:
        return "".join(n + "." for n in self.namespaces)

    def resolve(self, name: str) -> str | None:
        name = name.lstrip("@")
        if name.startswith("_root_."):
            name = name[len("_root_."):]
            return name if name in self.decls else None
        for k in range(len(self.namespaces), -1, -1):
            full = "".join(n + "." for n in self.namespaces[:k]) + name
            if full in self.decls:
                return full
        return None


class Double:
    def __init__(self) -> None:
        self.envs: list[Env] = []
        self.proof_states = 0

    # ---------------------------------------------------------------- one request

    def handle(self, request: dict) -> dict:
        if "cmd" not in request:
            if "tactic" in request:
                return {"message": "Unknown proof state."}
            return {"message": f"the test double only answers {{\"cmd\": ...}} requests, got {sorted(request)}"}
        code = request["cmd"]
        env_id = request.get("env")
        if env_id is not None and not (isinstance(env_id, int) and 0 <= env_id < len(self.envs)):
            return {"message": "Unknown environment."}
        masked = mask(code)
        self.faults(masked)
        env = self.envs[env_id].copy() if env_id is not None else Env()
        messages: list[dict] = []
        sorries: list[dict] = []
        starts = [m.start() for m in _COMMAND.finditer(masked)]
        first = starts[0] if starts else len(code)
        if masked[:first].strip():
            i = len(masked[:first]) - len(masked[:first].lstrip())
            messages.append(self.msg(code, "error", i, i + 1, "unexpected token; expected command"))
        for a, b in zip(starts, starts[1:] + [len(code)]):
            self.command(code, masked, a, b, env, env_id is not None, messages, sorries)
        self.envs.append(env)
        reply: dict = {}
        if sorries:
            reply["sorries"] = sorries
        if messages:
            reply["messages"] = messages
        reply["env"] = len(self.envs) - 1
        return reply

    @staticmethod
    def faults(masked: str) -> None:
        if "double_hang" in masked:
            while True:
                time.sleep(3600)
        if "double_crash" in masked:
            sys.stdout.write('{"env":\n')
            sys.stdout.flush()
            os._exit(1)
        if "double_oom" in masked:
            sys.stderr.write("INTERNAL PANIC: out of memory\n")
            sys.stderr.flush()
            os._exit(1)
        if "double_garbage" in masked:
            sys.stdout.write("this is not JSON: the double was asked for garbage\n")
        for ms in _SLEEP.findall(masked):
            time.sleep(int(ms) / 1000)
        for mib in _ALLOC.findall(masked):
            block = bytearray(int(mib) << 20)  # touches no page: only the address space counts
            del block

    @staticmethod
    def msg(code: str, severity: str, start: int, end: int, data: str) -> dict:
        line, col = line_col(code, start)
        end_line, end_col = line_col(code, end)
        return {"severity": severity, "pos": {"line": line, "column": col},
                "endPos": {"line": end_line, "column": end_col}, "data": data}

    # ---------------------------------------------------------------- one command

    def command(self, code: str, masked: str, a: int, b: int, env: Env, has_env: bool,
                messages: list, sorries: list) -> None:
        m = _COMMAND.match(masked, a)
        kw, kw_end = m.group(1), m.end()
        rest = masked[kw_end:b]
        if kw == "import":
            module = rest.split()[0] if rest.split() else ""
            if has_env:
                messages.append(self.msg(code, "error", a, kw_end,
                                         "invalid 'import' command, it must be used in the beginning of the file"))
            elif module.startswith("Missing"):
                messages.append(self.msg(code, "error", a, b, f"unknown module prefix '{module}'\n\n"
                                         "No directory '{module}' or file '{module}.olean' in the search path"))
        elif kw == "namespace":
            if rest.split():
                env.namespaces.extend(p for p in rest.split()[0].split(".") if p)
        elif kw == "end":
            if not env.namespaces:
                messages.append(self.msg(code, "error", a, kw_end, "invalid 'end', insufficient scopes"))
            else:
                n = len(rest.split()[0].split(".")) if rest.split() else 1
                del env.namespaces[-n:]
        elif kw in ("theorem", "lemma", "axiom", "def", "abbrev"):
            self.declaration(code, masked, kw, kw_end, b, env, messages, sorries)
        elif kw == "#print":
            self.print_axioms(code, a, kw_end, b, env, messages)
        elif kw == "#check":
            self.check(code, a, kw_end, b, env, messages, self.max_steps(masked, a))

    def declaration(self, code: str, masked: str, kw: str, kw_end: int, b: int, env: Env,
                    messages: list, sorries: list) -> None:
        m = re.compile(r"\s+(" + _ID + ")").match(masked, kw_end, b)
        if not m:
            messages.append(self.msg(code, "error", kw_end, kw_end, "expected identifier"))
            return
        name, n0, n1 = m.group(1), m.start(1), m.end(1)
        full = name[len("_root_."):] if name.startswith("_root_.") else env.prefix() + name
        assign = _top_level_assign(masked, n1, b)
        if kw == "axiom":
            signature = " ".join(mask(code[n1:b], strings=False).split())
            proof, p0 = "", b
        elif assign is None:
            messages.append(self.msg(code, "error", b, b, "unexpected end of input; expected ':='"))
            return
        else:
            signature = " ".join(mask(code[n1:assign], strings=False).split())
            proof, p0 = masked[assign + 2:b], assign + 2
        if full in env.decls:
            messages.append(self.msg(code, "error", n0, n1, f"'{full}' has already been declared"))
            return
        signature = _qualify_names(signature, env)
        levels = tuple(dict.fromkeys(re.findall(r"\b(?:Sort|Type)\s+([a-z]\w*)", signature)))
        if kw == "axiom":
            env.decls[full] = Decl(signature, frozenset({full}), levels)
            return
        if "double_retype" in proof:
            signature += " ∧ True"
        if "double_elided" in proof:
            signature += " ∧ ⋯"
        goal = "⊢ " + _split_signature(signature)[1]
        axioms = set() if _AXIOM_FREE.fullmatch(proof.strip()) else set(BASE_AXIOMS)
        if "native_decide" in proof:
            axioms.add("Lean.ofReduceBool")
        for ident in set(re.findall(r"[\w.'₀-₉]+", proof)):
            parts = ident.split(".")
            for k in range(len(parts), 0, -1):  # `ax.elim` mentions `ax`
                used = env.resolve(".".join(parts[:k]))
                if used is not None:
                    axioms |= env.decls[used].axioms
                    break
        errors = list(_ERROR.finditer(proof))
        for e in errors:
            messages.append(self.msg(code, "error", p0 + e.start(), p0 + e.end(), "unsolved goals\n" + goal))
        found = list(_SORRY.finditer(proof))
        for s in found:
            line, col = line_col(code, p0 + s.start())
            end_line, end_col = line_col(code, p0 + s.end())
            sorries.append({"proofState": self.proof_states, "pos": {"line": line, "column": col},
                            "goal": goal, "endPos": {"line": end_line, "column": end_col}})
            self.proof_states += 1
        old_sorry = "double_old_sorry" in proof
        if found or old_sorry:
            messages.append(self.msg(code, "warning", n0, n1, "declaration uses 'sorry'"))
        if found or errors or old_sorry:
            axioms.add("sorryAx")
        env.decls[full] = Decl(signature, frozenset(axioms), levels, "double_silent_axioms" in proof)

    @staticmethod
    def max_steps(masked: str, a: int) -> int:
        """The `pp.maxSteps` a `set_option pp.maxSteps N in` chain in front of the command sets."""
        start = masked.rfind("\n\n", 0, a)
        found = re.findall(r"set_option\s+pp\.maxSteps\s+(\d+)\s+in", masked[start + 1:a])
        return int(found[-1]) if found else DEFAULT_MAX_STEPS

    def print_axioms(self, code: str, a: int, kw_end: int, b: int, env: Env, messages: list) -> None:
        words = code[kw_end:b].split()
        if len(words) < 2 or words[0] != "axioms":
            return  # `#print NAME`: not modelled, accepted silently
        full = env.resolve(words[1])
        if full is None:
            messages.append(self.msg(code, "error", a, kw_end, f"unknown constant '{words[1].removeprefix('_root_.')}'"))
            return
        axioms = env.decls[full].axioms
        if env.decls[full].silent:
            return
        if axioms:
            ordered = sorted(axioms, key=_name_key)
            data = _wrap_list(f"'{full}' depends on axioms: ", ordered)
        else:
            data = f"'{full}' does not depend on any axioms"
        messages.append(self.msg(code, "info", a, kw_end, data))

    def check(self, code: str, a: int, kw_end: int, b: int, env: Env, messages: list,
              max_steps: int = DEFAULT_MAX_STEPS) -> None:
        words = code[kw_end:b].split()
        target = words[0] if words else ""
        full = env.resolve(target)
        if full is None:
            i = code.index(target, kw_end) if target else kw_end
            messages.append(self.msg(code, "error", i, i + len(target),
                                     f"Unknown identifier `{target.lstrip('@')}`"))
            return
        decl = env.decls[full]
        binders, type_ = _split_signature(decl.type)
        tokens = type_.split(" ")
        if len(tokens) > max_steps:  # the delaborator stops after pp.maxSteps and prints `⋯`
            type_ = " ".join(tokens[:max_steps] + ["⋯"])
        if not target.startswith("@"):  # `#check c`: the signature form (`.signature c`)
            head, shown = f"{full} {binders}".rstrip(), type_
        else:  # `#check @c`: a term, printed `e : type`
            implicit = any(c in binders for c in "{[⦃")
            levels = ".{" + ", ".join(decl.levels) + "}" if decl.levels else ""
            head, shown = f"{'@' if implicit else ''}{full}{levels}", (f"∀ {binders}, {type_}" if binders else type_)
        data = f"{head} : {shown}"
        if len(data) > WIDTH and shown.startswith("∀ "):  # the formatter breaks after `∀ binders,`
            data = f"{head} : ∀ {binders},\n  {type_}"
        messages.append(self.msg(code, "info", a, kw_end, data))


def _name_key(name: str) -> tuple:
    """Sort key of Lean's `Name.lt` (`Name.cmp` in src/Lean/Data/Name.lean): names are compared
    from the root, prefix first, so `propext` < `sorryAx` < `Classical.choice` <
    `Quot.sound` (a one-part name's prefix is the anonymous name, smaller than any)."""
    parts = name.split(".")
    key: tuple = ()
    for part in parts:
        key = (key, part)
    return key


def _wrap_list(head: str, items: list[str]) -> str:
    """`head[a, b, c]` as `MessageData.ofList` formats it: one line if it fits in WIDTH columns,
    else a break after every comma with the continuation indented by one (`sbracket`)."""
    one_line = head + "[" + ", ".join(items) + "]"
    if len(one_line) <= WIDTH:
        return one_line
    return head + "[" + ",\n ".join(items) + "]"


def _qualify_names(signature: str, env: "Env") -> str:
    """Identifiers naming a declaration of `env` written as their full names (`pp.fullNames`)."""
    def full(m: re.Match) -> str:
        word = m.group()
        resolved = env.resolve(word) if word not in _BINDER_WORDS else None
        return resolved if resolved is not None else word
    return re.sub(r"(?<![\w.'])[A-Za-z_][\w.']*", full, signature)


_BINDER_WORDS = frozenset({"Type", "Sort", "Prop", "fun", "forall"})


def _top_level_assign(masked: str, start: int, end: int) -> int | None:
    """Offset of the first `:=` outside brackets in masked[start:end]."""
    depth = 0
    i = start
    while i < end - 1:
        c = masked[i]
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth -= 1
        elif c == ":" and masked[i + 1] == "=" and depth == 0:
            return i
        i += 1
    return None


def _split_signature(signature: str) -> tuple[str, str]:
    """`(x : T) (h : P x) : Q x` -> ("(x : T) (h : P x)", "Q x") at the first top-level colon."""
    depth = 0
    for i, c in enumerate(signature):
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth -= 1
        elif c == ":" and depth == 0 and signature[i + 1:i + 2] != "=":
            return signature[:i].strip(), signature[i + 1:].strip()
    return "", signature.strip()


def main() -> None:
    double = Double()
    log_path = os.environ.get("FAKE_LEAN_REPL_LOG")
    lines: list[str] = []
    for raw in sys.stdin:
        if raw.strip():
            lines.append(raw.rstrip())
            continue
        if not lines:
            continue
        text, lines = "".join(lines), []
        try:
            request = json.loads(text)
        except json.JSONDecodeError as e:
            reply = {"message": f"Could not parse JSON: {e.msg}"}
        else:
            if log_path:
                with open(log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"pid": os.getpid(), "request": request}, ensure_ascii=False) + "\n")
            reply = double.handle(request) if isinstance(request, dict) else {"message": "expected an object"}
        sys.stdout.write(json.dumps(reply, indent=1, ensure_ascii=False) + "\n\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
