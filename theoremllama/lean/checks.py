"""The commands a worker runs after a proof to read Lean's own account of it, and their parsers.

After the proof's command gave an environment without errors or sorries, a worker runs in that
environment (`check_commands`):

    set_option pp.all true in ... (every bounded pretty-printer option raised, see PP_OPTIONS)
    #check @_root_.NAME
    #print axioms _root_.NAME

where NAME is the theorem's fully qualified name (`Foo.bar` for `theorem bar` declared while the
header leaves `namespace Foo` open) and `_root_.` makes the lookup absolute: a proof may leave a
namespace open in which the short name means another constant. The reference type is the same
`#check` run after `statement sorry` in the header-only environment (`reference_code`).

What Lean v4.24.0 prints, and where the parsers' assumptions come from:
- `#check @c` is not a bare identifier, so `elabCheckCore` (src/Lean/Elab/BuiltinCommand.lean)
  elaborates it as a term and logs `m!"{e} : {type}"`: the constant (`c`, `@c` when it has
  implicit arguments, `c.{u}` with universe levels under `pp.universes`), then ` : `, then the
  type, laid out by the formatter at `format.width` (120) columns. The type is everything after
  the first ` : ` (a constant's printed name has no spaces); whitespace is normalised because the
  layout depends on the width, not on the statement.
- `#print axioms c` (`printAxiomsOf`, src/Lean/Elab/Print.lean) logs `'c' depends on axioms:
  [a, b]` with the list sorted by `Name.lt` and formatted by `MessageData.ofList` (breaks after
  commas when too long), or `'c' does not depend on any axioms`. The list is transitive:
  `collectAxioms` (src/Lean/Util/CollectAxioms.lean) walks the type and value of every constant
  the theorem's proof term mentions, so auxiliary lemmas and definitions are covered.
- The pretty printer elides terms it does not finish: after `pp.maxSteps` visited expressions
  (default 5000, NOT raised by `pp.all`) it prints `⋯`, likewise deep terms (`pp.deepTerms`) and
  proofs (`pp.proofs`) when those are off (src/Lean/PrettyPrinter/Delaborator/Options.lean).
  Two different statements could then print the same text. Every such option is set explicitly
  (an explicit `set_option` wins over the `pp.all` default, and a proof may have set one at the top
  level), and a printed type that still contains `⋯` is refused rather than compared.
"""

from __future__ import annotations

import re
import threading

from theoremllama.lean.protocol import Message
from theoremllama.lean.syntax import normalize_whitespace

PP_OPTIONS = (
    ("pp.all", "true"),
    ("pp.maxSteps", "1000000000"),  # bounded even under pp.all (default 5000)
    ("pp.deepTerms", "true"),
    ("pp.proofs", "true"),
    ("pp.motives.all", "true"),      # motives of recursors/matchers are `_` otherwise
    ("pp.oneline", "false"),         # would cut the type at its first line (src/Lean/PrettyPrinter/Formatter.lean)
    ("pp.notation", "false"),
    ("pp.explicit", "true"),
    ("pp.universes", "true"),
    ("pp.fullNames", "true"),
    ("pp.privateNames", "true"),
    ("pp.coercions", "false"),
    ("pp.beta", "false"),
)
"""Set in front of every `#check` of a statement: the text of a type is then all of the type."""

ELIDED = "⋯"
"""What the pretty printer prints in place of a term it did not print."""

_OPTIONS_PREFIX = "".join(f"set_option {name} {value} in\n" for name, value in PP_OPTIONS)
_AXIOMS = re.compile(r"depends on axioms:\s*\[(?P<list>[^\]]*)\]|does not depend on any axioms")


def qualified_name(namespace: str, name: str) -> str:
    """The full name `theorem NAME` declares inside `namespace` (`_root_.x` escapes it)."""
    if name.startswith("_root_."):
        return name[len("_root_."):]
    return f"{namespace}.{name}" if namespace else name


def check_command(full_name: str) -> str:
    """`#check` of a constant with every pretty-printer bound raised (see PP_OPTIONS)."""
    return f"{_OPTIONS_PREFIX}#check @_root_.{full_name}"


def check_commands(full_name: str) -> str:
    """What runs after a proof: the `#check` of the theorem, then its `#print axioms`."""
    return f"{check_command(full_name)}\n#print axioms _root_.{full_name}"


def reference_code(statement: str, full_name: str) -> str:
    """The statement proved by `sorry`, then the same `#check`: its type in the header env."""
    return f"{statement} sorry\n\n{check_command(full_name)}"


def reference_check_line(statement: str, full_name: str) -> int:
    """The 1-based line of `reference_code` where its `#check` starts (messages from there on)."""
    return reference_code(statement, full_name).count("\n") - len(PP_OPTIONS) + 1


def printed_type(messages: list[Message]) -> str | None:
    """The type from a `#check @c` info message (`@c : TYPE`), whitespace-normalised."""
    for m in messages:
        if m.severity == "info" and " : " in m.data and not _AXIOMS.search(m.data):
            return normalize_whitespace(m.data.split(" : ", 1)[1])
    return None


def printed_axioms(messages: list[Message]) -> list[str] | None:
    """The axioms listed by `#print axioms` (Lean's wording), [] for none, or None if it printed
    neither form."""
    for m in messages:
        found = _AXIOMS.search(m.data) if m.severity == "info" else None
        if found:
            listed = found.group("list")
            return [a.strip() for a in listed.split(",") if a.strip()] if listed is not None else []
    return None


class ReferenceTypes:
    """(header, statement) -> the statement's elaborated type in the header-only environment,
    shared by all workers: the text of a type in a given header environment does not depend on
    the process that prints it, but it does depend on the header (its imports, opens and the
    namespace it leaves open)."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

    def get(self, header: str, statement: str) -> tuple[bool, str | None]:
        with self._lock:
            key = (header, statement)
            return (key in self._types, self._types.get(key))

    def put(self, header: str, statement: str, type_text: str | None) -> None:
        with self._lock:
            self._types[(header, statement)] = type_text
