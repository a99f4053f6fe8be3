"""One verification worker: a Lean REPL process bound to one header, and the checks it runs.

For each proof (a `PreparedJob`, see `job.py`) a worker:
  1. imports its header once per process (`{"cmd": header}`) and keeps that environment;
  2. runs the body (`statement + " " + proof`, or a lemma-style completion) in the header's
     environment;
  3. if Lean reports neither an error nor a sorry, runs in the resulting environment the
     `#check @_root_.NAME` / `#print axioms _root_.NAME` of `checks.py` (NAME fully qualified;
     every pretty-printer bound raised) and compares the printed type with the reference type of
     the statement: the same `#check` run after `statement sorry` in the header-only environment
     (computed once per header and statement and shared by the pool: the text of a type in a given
     header environment does not depend on the process that prints it);
  4. turns what it saw into a `Verdict`, in the order of precedence of `verdict.py`.

Faults cost only the proof that caused them: on a timeout the REPL's process group is killed
(by `LeanRepl`), on a crash, garbage output or running out of memory the process is gone; the
worker starts a new process (and re-imports the header) for its next proof. After `max_uses`
proofs, or above `max_rss_bytes` of resident memory (the REPL never frees environments), the
process is recycled the same way.

The header import has its own limit (`header_timeout`, default 600 s: `import Mathlib` takes
seconds to a minute); the proof's `timeout` starts when the import is done. A header that fails
(an error, no answer within `header_timeout`, the process dying) while no header of the pool has
ever imported is a setup problem (the REPL, the Lean project or the machine is wrong): `UserError`,
no verdict. Otherwise the proofs of that header get verdicts with `header_failed=True`: their
proofs were never checked, and `theoremllama verify` checks them again on a rerun. A header that
errs or never answers stays failed for this worker (each proof would wait the same way again).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from theoremllama.errors import UserError
from theoremllama.lean.checks import (ELIDED, ReferenceTypes, check_commands, printed_axioms, printed_type,
                                      reference_check_line, reference_code)
from theoremllama.lean.job import PreparedJob
from theoremllama.lean.protocol import CommandResponse, ErrorResponse, Message
from theoremllama.lean.repl import LeanRepl, ReplBadRequest, ReplDied, ReplError, ReplGarbage, ReplTimeout
from theoremllama.lean.verdict import ALLOWED_AXIOMS, Verdict

HEADER_TIMEOUT_S = 600.0
"""Default limit of a header import (Mathlib: seconds to a minute; the proof's limit starts after it)."""

@dataclass
class WorkerLimits:
    """What the pool configures for every worker."""

    timeout: float
    """Wall-clock seconds for one proof (its run, the checks and, if needed, the reference)."""
    header_timeout: float = HEADER_TIMEOUT_S
    """Wall-clock seconds for importing the header in a fresh process (not charged to any proof)."""
    mem_limit_bytes: int | None = None
    """RLIMIT_AS for each REPL process."""
    max_uses: int = 200
    """Proofs checked by one process before it is recycled."""
    max_rss_bytes: int | None = None
    """Resident memory above which a process is recycled after its current proof."""


@dataclass
class Counters:
    """Pool-wide counts, updated by workers (thread-safe)."""

    header_imports: int = 0
    """Header commands sent (each in a fresh process)."""
    headers_ok: int = 0
    """Header imports that gave an environment."""
    restarts: int = 0
    """Processes replaced after a fault (timeout, crash, garbage, memory) or recycled."""
    busy_seconds: float = 0.0
    importing: int = 0
    """Header imports in progress."""
    lock: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def add(self, *, header_imports: int = 0, headers_ok: int = 0, restarts: int = 0,
            busy_seconds: float = 0.0, importing: int = 0) -> None:
        with self.lock:
            self.header_imports += header_imports
            self.headers_ok += headers_ok
            self.restarts += restarts
            self.busy_seconds += busy_seconds
            self.importing += importing
            self.lock.notify_all()

    def no_header_ever_imported(self) -> bool:
        """After a failed import: True when no import of the pool has succeeded, once the imports
        still in progress have finished (one of them may yet prove that the setup works)."""
        with self.lock:
            self.lock.wait_for(lambda: self.headers_ok > 0 or self.importing == 0)
            return self.headers_ok == 0


class _Outcome(Exception):
    """Raised inside a check to end it with a verdict (reason, detail)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class _HeaderFailed(_Outcome):
    """The header did not import: the proof was never checked (its verdict says header_failed)."""


class Worker:
    """One REPL process (started lazily, restarted after faults) serving one header."""

    def __init__(self, header: str, make_repl: Callable[[], LeanRepl], limits: WorkerLimits,
                 counters: Counters, references: ReferenceTypes):
        self.header = header
        self._make_repl = make_repl
        self.limits = limits
        self.counters = counters
        self.references = references
        self.repl: LeanRepl | None = None
        self.header_env: int | None = None
        self.header_error: tuple[str, str] | None = None
        """(reason, detail) of a header that failed for good in this worker."""
        self.uses = 0

    # ------------------------------------------------------------------ process lifetime

    def _ensure_header(self) -> None:
        """Start a process and import the header, unless that is done.

        Raises _HeaderFailed (a verdict for the proof at hand) or UserError (a setup problem)."""
        if self.repl is not None and self.repl.alive and self.header_env is not None:
            return
        if self.header_error is not None:
            raise _HeaderFailed(*self.header_error)
        self.discard()
        self.repl = self._make_repl()
        self.counters.add(header_imports=1, importing=1)
        limit = self.limits.header_timeout
        failure: tuple[str, str] | None = None
        sticky = True  # errors and silence repeat; a crash may be bad luck, so the next proof retries
        stderr = ""
        try:
            reply = self.repl.command(self.header, timeout=limit)
        except ReplTimeout:
            failure = ("timeout", f"no answer to the header import within {limit:g} s")
        except ReplDied as e:
            failure, sticky, stderr = ("memory" if e.out_of_memory else "crash",
                                       f"the REPL died importing the header: {_first_line(str(e))}"), False, e.stderr_tail
        except ReplGarbage as e:
            failure, sticky, stderr = ("crash", f"the REPL printed garbage importing the header: "
                                                f"{_first_line(str(e))}"), False, e.stderr_tail
        except ReplBadRequest as e:
            failure = ("error", f"the header cannot be sent to the REPL: {e}")
        except BaseException:  # the REPL cannot start at all (ReplStartError), Ctrl-C, a bug
            self.discard()
            self.counters.add(importing=-1)  # other workers may be waiting for this import to end
            raise
        else:
            if isinstance(reply, ErrorResponse):
                failure = ("error", f"the header was refused: {_first_line(reply.message)}")
            elif reply.errors:
                first = reply.errors[0]
                failure = ("error", f"the header has an error at line {first.pos.line}: {_first_line(first.data)}")
            elif reply.env is None:
                failure = ("error", "the REPL gave no environment for the header")
            else:
                self.header_env = reply.env
                self.counters.add(headers_ok=1, importing=-1)
                return
        self.discard()
        self.counters.add(importing=-1, restarts=int(not sticky))
        if self.counters.no_header_ever_imported():
            # No REPL of this pool has ever imported a header: the command, the Lean project or the
            # machine is wrong, and every proof would fail the same way. A setup problem, not a verdict.
            tail = stderr.strip()[-600:]
            hint = " Raise --mem-gb (mem_gb)." if failure[0] == "memory" else ""
            raise UserError(f"no header of this run could be imported: {failure[1]} (header "
                            f"{_clip(' | '.join(self.header.splitlines()), 120)!r})"
                            f"{'; its stderr ends with: ' + tail if tail else ''}.{hint} Check the "
                            f"header, --repl-cmd / THEOREMLLAMA_REPL_CMD and --header-timeout, or run "
                            f"`theoremllama setup-lean`")
        if sticky:
            self.header_error = failure
        raise _HeaderFailed(*failure)

    def discard(self) -> None:
        """Kill the process (if any); the next proof starts a fresh one. Also how a worker retires."""
        if self.repl is not None:
            self.repl.kill()
        self.repl, self.header_env, self.uses = None, None, 0

    def _recycle_if_due(self) -> None:
        repl = self.repl
        if repl is None or not repl.alive:
            return
        if self.uses >= self.limits.max_uses or (
                self.limits.max_rss_bytes is not None and repl.rss_bytes() > self.limits.max_rss_bytes):
            self.counters.add(restarts=1)
            self.discard()  # nothing in a REPL is worth a polite shutdown (it can take seconds)

    # ------------------------------------------------------------------ one proof

    def check(self, job: PreparedJob) -> Verdict:
        """Check one proof; never raises for anything Lean or the REPL process does."""
        start = time.monotonic()
        messages: list[dict] = []
        axioms: list[str] = []
        header_failed = False
        try:
            self._ensure_header()
            deadline = time.monotonic() + self.limits.timeout  # the import is not the proof's time
            self.uses += 1
            reply = self._command(job.body, self.header_env, deadline)
            messages = [_shift(m, job.header_lines) for m in reply.messages]
            if reply.errors:
                first = reply.errors[0]
                raise _Outcome("error", f"line {first.pos.line + job.header_lines}:{first.pos.column}: "
                                        f"{_first_line(first.data)}")
            if reply.has_sorry:
                where = next((s.pos for s in reply.sorries if s.pos is not None), None)
                at = f" at line {where.line + job.header_lines}:{where.column}" if where else ""
                raise _Outcome("sorry", f"the proof uses sorry{at}")
            if reply.env is None:
                raise _Outcome("crash", "the REPL gave no environment for the proof")
            checked = self._command(check_commands(job.full_name), reply.env, deadline)
            found_axioms = printed_axioms(checked.messages)
            if found_axioms is not None:
                axioms = found_axioms
            if "sorryAx" in axioms:
                raise _Outcome("sorry", "the theorem depends on sorryAx")
            candidate = printed_type(checked.messages)
            if candidate is None:
                why = _first_line(checked.errors[0].data) if checked.errors else "nothing printed"
                raise _Outcome("statement", f"no theorem `{job.full_name}` after the proof ({why})")
            if ELIDED in candidate:
                raise _Outcome("statement", f"the proved theorem's type printed with an elided part: "
                                            f"`{_clip(candidate)}`")
            reference = self._reference(job, deadline)
            if reference is None or ELIDED in reference:
                raise _Outcome("statement", "the statement's own type could not be printed in full in the header "
                                            "environment")
            if candidate != reference:
                raise _Outcome("statement", f"the proved theorem's type differs from the statement's: expected "
                                            f"`{_clip(reference)}`, got `{_clip(candidate)}`")
            if found_axioms is None:
                raise _Outcome("axiom", "`#print axioms` printed no axiom list")
            outside = [a for a in axioms if a not in ALLOWED_AXIOMS]
            if outside:
                raise _Outcome("axiom", f"depends on axioms outside the whitelist: {', '.join(outside)}")
            reason, detail = "ok", ""
        except _Outcome as o:
            reason, detail = o.reason, o.detail
            header_failed = isinstance(o, _HeaderFailed)
        except ReplBadRequest as e:  # e.g. a lone surrogate: nothing was sent, the process is fine
            reason, detail = "error", f"the proof cannot be sent to the REPL: {e}"
        except ReplTimeout:
            self.counters.add(restarts=1)
            self.discard()
            reason, detail = "timeout", f"no answer within {self.limits.timeout:g}s (REPL killed and restarted)"
        except ReplDied as e:
            self.counters.add(restarts=1)
            self.discard()
            if e.out_of_memory:
                cap = self.limits.mem_limit_bytes
                reason = "memory"
                detail = "the REPL ran out of memory" + (f" (cap {cap / 2**30:g} GiB)" if cap else "")
            else:
                reason, detail = "crash", _first_line(str(e))
        except ReplGarbage as e:
            self.counters.add(restarts=1)
            self.discard()
            reason, detail = "crash", f"{_first_line(str(e))}; it printed {e.text[:120]!r}"
        except ReplError as e:  # any other REPL failure
            self.counters.add(restarts=1)
            self.discard()
            reason, detail = "crash", _first_line(str(e))
        finally:
            self._recycle_if_due()
            self.counters.add(busy_seconds=time.monotonic() - start)
        return Verdict(id=job.id, passed=reason == "ok", reason=reason, messages=messages, axioms=axioms,
                       seconds=round(time.monotonic() - start, 4), detail=detail, header_failed=header_failed)

    def _command(self, code: str, env: int | None, deadline: float) -> CommandResponse:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Outcome("timeout", f"no answer within {self.limits.timeout:g}s")
        reply = self.repl.command(code, env, timeout=remaining)
        if isinstance(reply, ErrorResponse):
            raise _Outcome("error", f"the REPL refused the code: {_first_line(reply.message)}")
        return reply

    def _reference(self, job: PreparedJob, deadline: float) -> str | None:
        known, type_text = self.references.get(self.header, job.statement)
        if known:
            return type_text
        reply = self._command(reference_code(job.statement, job.full_name), self.header_env, deadline)
        check_line = reference_check_line(job.statement, job.full_name)
        type_text = printed_type([m for m in reply.messages if m.pos.line >= check_line])
        self.references.put(self.header, job.statement, type_text)
        return type_text


def _shift(message: Message, lines: int) -> dict:
    """A message as a dict, its positions moved from the body to the submitted code."""
    d = message.to_dict()
    for key in ("pos", "endPos"):
        if d.get(key) and d[key]["line"] > 0:
            d[key] = {"line": d[key]["line"] + lines, "column": d[key]["column"]}
    return d


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
