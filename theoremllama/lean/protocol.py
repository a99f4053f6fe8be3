"""The Lean REPL's wire protocol (leanprover-community/repl), as typed Python values.

Pure functions and dataclasses, no I/O: `repl.py` moves the bytes, this module says what they
mean. Ground truth is the REPL's own source (`REPL/JSON.lean`, `REPL/Main.lean`) and the real
replies recorded in `tests/fixtures/repl_transcripts/`.

Framing (both directions):
- A request is one JSON object followed by a blank line. The REPL reads lines up to a blank
  line, strips each line's trailing whitespace (newline included) and concatenates them, so a
  raw newline inside a JSON string is silently lost ("by\\nsorry" arrives as "bysorry"). We
  therefore always send a request as ONE line, newlines escaped as `\\n` (`encode_request`).
- A reply is a pretty-printed JSON object over several lines followed by a blank line. JSON
  strings cannot hold a raw newline, so the first blank line ends the reply (`split_replies`).

Reply shapes (every one is a JSON object):
- command (`{"cmd": ...}`, `{"path": ...}`, `{"pickleTo": .., "env": n}`, `{"unpickleEnvFrom": ..}`):
  `{"env": n, "messages"?: [...], "sorries"?: [...], "tactics"?: [...], "infotree"?: ...}`;
  empty lists are left out.
- tactic (`{"tactic": t, "proofState": n}`, and proof-state pickling):
  `{"proofState": m, "goals": [...], "proofStatus"?: str, "messages"?, "sorries"?, "traces"?}`.
- failure: `{"message": "Unknown environment."}`, `{"message": "Lean error:\\n..."}`, ...

Pickling replies have exactly the command or tactic shapes (the transcripts show `{"env": n}`
and a proof-step object), so they parse as `CommandResponse` / `ProofStepResponse`;
`PickleResponse` names that union.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The warning Lean attaches to a declaration that uses `sorry`, in current Lean and in older
# versions. A sorry can hide from `sorries` (e.g. inside a term elaborated twice), never from this.
SORRY_WARNINGS = ("declaration uses `sorry`", "declaration uses 'sorry'")

SEVERITIES = ("trace", "info", "warning", "error")


class ProtocolError(ValueError):
    """A reply (or transcript) whose shape this module cannot type."""


# --------------------------------------------------------------------------- small helpers

def _require(obj: dict, key: str, kinds: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise ProtocolError(f"{where}: missing field {key!r} in {_short(obj)}")
    value = obj[key]
    if not _is(value, kinds):
        raise ProtocolError(f"{where}: field {key!r} has type {type(value).__name__}, "
                            f"expected {_names(kinds)}: {_short(obj)}")
    return value


def _optional(obj: dict, key: str, kinds: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    if not _is(value, kinds):
        raise ProtocolError(f"{where}: field {key!r} has type {type(value).__name__}, "
                            f"expected {_names(kinds)}: {_short(obj)}")
    return value


def _is(value: Any, kinds: type | tuple[type, ...]) -> bool:
    # bool is an int in Python, never in JSON replies: `"env": true` is a broken reply.
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        return False
    return isinstance(value, kinds)


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,)))


def _short(obj: Any, limit: int = 200) -> str:
    text = json.dumps(obj, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _list_of_dicts(obj: dict, key: str, where: str) -> list[dict]:
    items = _optional(obj, key, list, where, default=[])
    for item in items:
        if not isinstance(item, dict):
            raise ProtocolError(f"{where}: {key!r} holds a {type(item).__name__}, expected objects")
    return items


def _list_of_str(obj: dict, key: str, where: str, *, required: bool = False) -> list[str]:
    items = _require(obj, key, list, where) if required else _optional(obj, key, list, where, default=[])
    for item in items:
        if not isinstance(item, str):
            raise ProtocolError(f"{where}: {key!r} holds a {type(item).__name__}, expected strings")
    return list(items)


def _extra(obj: dict, known: frozenset[str]) -> dict:
    """Fields a newer REPL may send that we do not model: kept so nothing is lost."""
    return {k: v for k, v in obj.items() if k not in known}


# --------------------------------------------------------------------------- reply parts

@dataclass(frozen=True)
class Pos:
    """A position in the submitted code, as the REPL reports it."""

    line: int
    """1-based line number (0 when Lean has no position, e.g. errors from tactic mode)."""
    column: int
    """0-based column, counted in Unicode code points."""

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column}

    @classmethod
    def from_dict(cls, obj: Any, where: str = "pos") -> "Pos":
        if not isinstance(obj, dict):
            raise ProtocolError(f"{where}: expected an object, got {_short(obj)}")
        return cls(_require(obj, "line", int, where), _require(obj, "column", int, where))


def _pos_or_none(obj: dict, key: str, where: str) -> Pos | None:
    value = obj.get(key)
    return None if value is None else Pos.from_dict(value, f"{where}.{key}")


@dataclass
class Message:
    """One of Lean's messages (error, warning, info, trace) about the submitted code."""

    severity: str
    """One of SEVERITIES."""
    pos: Pos
    """Where the message starts."""
    end_pos: Pos | None
    """Where it ends; None when Lean gives no end (the REPL then sends null or nothing)."""
    data: str
    """The message text, trimmed by the REPL."""

    def to_dict(self) -> dict:
        """The REPL's own shape: {"severity", "pos", "endPos", "data"} (endPos may be null)."""
        return {"severity": self.severity, "pos": self.pos.to_dict(),
                "endPos": None if self.end_pos is None else self.end_pos.to_dict(), "data": self.data}

    @classmethod
    def from_dict(cls, obj: dict, where: str = "message") -> "Message":
        severity = _require(obj, "severity", str, where)
        if severity not in SEVERITIES:
            raise ProtocolError(f"{where}: unknown severity {severity!r}")
        return cls(severity=severity, pos=Pos.from_dict(_require(obj, "pos", dict, where), f"{where}.pos"),
                   end_pos=_pos_or_none(obj, "endPos", where), data=_require(obj, "data", str, where))

    @property
    def is_sorry_warning(self) -> bool:
        return self.severity == "warning" and any(w in self.data for w in SORRY_WARNINGS)


@dataclass
class Sorry:
    """A `sorry` in the code (or left by a tactic): the goal it stands for."""

    pos: Pos | None
    """Where the sorry is; None for sorries created in tactic mode (the REPL leaves it out)."""
    end_pos: Pos | None
    """Where it ends (None as for pos)."""
    goal: str
    """The pretty-printed goal the sorry closes."""
    proof_state: int | None
    """A proof state id to continue from with `{"tactic": .., "proofState": n}`; None for term sorries."""

    def to_dict(self) -> dict:
        """The REPL's own shape: goal, proofState (possibly null), pos/endPos only when known."""
        out: dict = {"goal": self.goal, "proofState": self.proof_state}
        if self.pos is not None:
            out["pos"] = self.pos.to_dict()
        if self.end_pos is not None:
            out["endPos"] = self.end_pos.to_dict()
        return out

    @classmethod
    def from_dict(cls, obj: dict, where: str = "sorry") -> "Sorry":
        return cls(pos=_pos_or_none(obj, "pos", where), end_pos=_pos_or_none(obj, "endPos", where),
                   goal=_require(obj, "goal", str, where),
                   proof_state=_optional(obj, "proofState", int, where))


@dataclass
class Tactic:
    """One tactic of the submitted proof, reported when the request sets `allTactics`."""

    tactic: str
    """The tactic's source text."""
    goals: str
    """The goals before the tactic runs, pretty-printed as one string."""
    proof_state: int | None
    """A proof state id (the state before this tactic) usable in tactic mode."""
    pos: Pos
    """Where the tactic starts."""
    end_pos: Pos
    """Where it ends."""
    used_constants: list[str] = field(default_factory=list)
    """Constants the tactic's proof term mentions (newer REPLs only)."""

    def to_dict(self) -> dict:
        out = {"usedConstants": list(self.used_constants), "tactic": self.tactic,
               "proofState": self.proof_state, "pos": self.pos.to_dict(), "goals": self.goals,
               "endPos": self.end_pos.to_dict()}
        if self.proof_state is None:  # the REPL's derived ToJson leaves out an absent Option
            del out["proofState"]
        return out

    @classmethod
    def from_dict(cls, obj: dict, where: str = "tactic") -> "Tactic":
        return cls(tactic=_require(obj, "tactic", str, where), goals=_require(obj, "goals", str, where),
                   proof_state=_optional(obj, "proofState", int, where),
                   pos=Pos.from_dict(_require(obj, "pos", dict, where), f"{where}.pos"),
                   end_pos=Pos.from_dict(_require(obj, "endPos", dict, where), f"{where}.endPos"),
                   used_constants=_list_of_str(obj, "usedConstants", where))


# --------------------------------------------------------------------------- replies

class _Diagnostics:
    """What command and tactic replies share: messages and sorries."""

    messages: list[Message]
    sorries: list[Sorry]

    @property
    def errors(self) -> list[Message]:
        """Messages of severity `error`."""
        return [m for m in self.messages if m.severity == "error"]

    @property
    def has_sorry(self) -> bool:
        """A sorry entry, or Lean's `declaration uses sorry` warning (either spelling)."""
        return bool(self.sorries) or any(m.is_sorry_warning for m in self.messages)


@dataclass
class CommandResponse(_Diagnostics):
    """The reply to a command (`cmd`), a file (`path`) or environment (un)pickling."""

    env: int | None
    """The environment after the command: pass it as `env` to build on it."""
    messages: list[Message] = field(default_factory=list)
    sorries: list[Sorry] = field(default_factory=list)
    tactics: list[Tactic] = field(default_factory=list)
    """Every tactic of the code, only when the request set `allTactics`."""
    infotree: Any | None = None
    """Lean's info trees as JSON, only when the request set `infotree`."""
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    """The reply exactly as received (including fields this class does not model)."""

    _KEYS = frozenset({"env", "messages", "sorries", "tactics", "infotree"})

    def to_dict(self) -> dict:
        """The REPL's own shape: empty lists and absent values left out, unknown fields kept."""
        out: dict = {}
        if self.env is not None:
            out["env"] = self.env
        if self.messages:
            out["messages"] = [m.to_dict() for m in self.messages]
        if self.sorries:
            out["sorries"] = [s.to_dict() for s in self.sorries]
        if self.tactics:
            out["tactics"] = [t.to_dict() for t in self.tactics]
        if self.infotree is not None:
            out["infotree"] = self.infotree
        out.update(_extra(self.raw, self._KEYS))
        return out

    @classmethod
    def from_dict(cls, obj: dict) -> "CommandResponse":
        where = "command reply"
        return cls(env=_optional(obj, "env", int, where),
                   messages=[Message.from_dict(m, f"{where}.messages[{i}]")
                             for i, m in enumerate(_list_of_dicts(obj, "messages", where))],
                   sorries=[Sorry.from_dict(s, f"{where}.sorries[{i}]")
                            for i, s in enumerate(_list_of_dicts(obj, "sorries", where))],
                   tactics=[Tactic.from_dict(t, f"{where}.tactics[{i}]")
                            for i, t in enumerate(_list_of_dicts(obj, "tactics", where))],
                   infotree=obj.get("infotree"), raw=obj)


@dataclass
class ProofStepResponse(_Diagnostics):
    """The reply to a tactic run in a proof state (or to proof-state (un)pickling)."""

    proof_state: int
    """The proof state after the tactic: pass it as `proofState` to continue."""
    goals: list[str]
    """The goals left open, pretty-printed; empty when the proof is complete."""
    proof_status: str | None = None
    """E.g. "Completed", "Incomplete: open goals remain", "Incomplete: contains sorry" (newer REPLs)."""
    messages: list[Message] = field(default_factory=list)
    sorries: list[Sorry] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    """Trace output of the tactic (e.g. `trace "..."`, `set_option trace.* true`)."""
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    """The reply exactly as received."""

    _KEYS = frozenset({"proofState", "goals", "proofStatus", "messages", "sorries", "traces"})

    def to_dict(self) -> dict:
        out: dict = {"proofState": self.proof_state, "goals": list(self.goals)}
        if self.proof_status is not None:
            out["proofStatus"] = self.proof_status
        if self.messages:
            out["messages"] = [m.to_dict() for m in self.messages]
        if self.sorries:
            out["sorries"] = [s.to_dict() for s in self.sorries]
        if self.traces:
            out["traces"] = list(self.traces)
        out.update(_extra(self.raw, self._KEYS))
        return out

    @classmethod
    def from_dict(cls, obj: dict) -> "ProofStepResponse":
        where = "tactic reply"
        return cls(proof_state=_require(obj, "proofState", int, where),
                   goals=_list_of_str(obj, "goals", where, required=True),
                   proof_status=_optional(obj, "proofStatus", str, where),
                   messages=[Message.from_dict(m, f"{where}.messages[{i}]")
                             for i, m in enumerate(_list_of_dicts(obj, "messages", where))],
                   sorries=[Sorry.from_dict(s, f"{where}.sorries[{i}]")
                            for i, s in enumerate(_list_of_dicts(obj, "sorries", where))],
                   traces=_list_of_str(obj, "traces", where), raw=obj)


@dataclass
class ErrorResponse:
    """The REPL refused the request: `{"message": "Unknown environment."}`, `Lean error: ...`."""

    message: str
    """The REPL's explanation."""
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    """The reply exactly as received."""

    def to_dict(self) -> dict:
        out = {"message": self.message}
        out.update(_extra(self.raw, frozenset({"message"})))
        return out

    @classmethod
    def from_dict(cls, obj: dict) -> "ErrorResponse":
        return cls(message=_require(obj, "message", str, "error reply"), raw=obj)


Reply = CommandResponse | ProofStepResponse | ErrorResponse
# Pickling replies are command replies (environments) or tactic replies (proof states).
PickleResponse = CommandResponse | ProofStepResponse


def parse_reply(obj: dict) -> Reply:
    """Type one reply by its shape. Raises ProtocolError on a shape it cannot type."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"a REPL reply must be a JSON object, got {_short(obj)}")
    if "message" in obj and not (obj.keys() & (CommandResponse._KEYS | ProofStepResponse._KEYS)):
        return ErrorResponse.from_dict(obj)
    if "proofState" in obj and "goals" in obj:
        return ProofStepResponse.from_dict(obj)
    if "proofState" in obj or "goals" in obj:
        raise ProtocolError(f"a tactic reply needs both 'proofState' and 'goals': {_short(obj)}")
    if not obj or obj.keys() & CommandResponse._KEYS:
        # `{}` is a legal command reply: Lean sends no env only in odd cases, but it is well-formed.
        return CommandResponse.from_dict(obj)
    raise ProtocolError(f"unrecognised REPL reply: {_short(obj)}")


# --------------------------------------------------------------------------- framing

def encode_request(request: dict) -> str:
    """One request as the REPL reads it: one line of JSON, then a blank line.

    `json.dumps` escapes every newline and control character inside strings, so the request is a
    single line whatever the code holds; non-ASCII text is sent as UTF-8 (the REPL reads UTF-8).
    Raises ValueError if the request is not a JSON-serialisable dict."""
    if not isinstance(request, dict):
        raise ValueError(f"a REPL request must be a dict, got {type(request).__name__}")
    try:
        line = json.dumps(request, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"REPL request is not JSON-serialisable: {e}") from None
    return line + "\n\n"


_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def split_replies(text: str) -> list[dict]:
    """Parse a stream of JSON objects separated by blank lines (REPL replies, recorded or live).

    Raises ProtocolError on anything that is not a JSON object (naming where it starts)."""
    out: list[dict] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            return out
        try:
            obj, end = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise ProtocolError(f"not JSON at line {e.lineno} column {e.colno}: {e.msg}: "
                                f"{text[i:i + 80]!r}") from None
        if not isinstance(obj, dict):
            line = text.count("\n", 0, i) + 1
            raise ProtocolError(f"line {line}: expected a JSON object, got {_short(obj)}")
        out.append(obj)
        i = end


def split_requests(text: str) -> list[dict]:
    """Parse requests the way the REPL itself reads them (`getLines` in REPL/Main.lean).

    Lines are read up to a blank line; each line loses its trailing whitespace (and newline) and
    the lines are concatenated, so a raw line break inside a JSON string simply disappears. Input
    starting with `#` or `--` is skipped, as the REPL does. Used to read recorded `.in` transcripts
    and by the replay test double. Raises ProtocolError on input that is not a JSON object."""
    out: list[dict] = []
    query: list[str] = []
    lines = text.split("\n")
    for number, line in enumerate(lines + [""], start=1):
        if line.strip(_WS):
            query.append(line.rstrip(_WS))
            continue
        if not query:
            continue
        joined = "".join(query)
        query = []
        if joined.startswith("#") or joined.startswith("--"):
            continue
        try:
            obj = json.loads(joined)
        except json.JSONDecodeError as e:
            raise ProtocolError(f"request ending at line {number - 1}: not JSON: {e.msg}: {joined[:80]!r}") from None
        if not isinstance(obj, dict):
            raise ProtocolError(f"request ending at line {number - 1}: expected a JSON object")
        out.append(obj)
    return out
