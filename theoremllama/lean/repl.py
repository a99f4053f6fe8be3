"""One Lean REPL process (leanprover-community/repl), driven request by request.

`LeanRepl` starts the REPL, sends a request, waits for the reply under a wall-clock limit and
types it (`protocol.parse_reply`). Whatever goes wrong with the process is an exception that
names what happened, and leaves no process behind:

    ReplTimeout   no reply in time: the whole process group was killed
    ReplDied      the process exited or was killed (out_of_memory tells a memory cap apart)
    ReplGarbage   it printed something that is not a reply: the stream is out of sync, killed

After any of these the process is gone; the next request starts a fresh one (whose environment
and proof-state numbers start again from 0: `starts` counts the processes started). A process
that dies on its own between requests is reported by the next request as ReplDied (its
environments are lost: the caller must know); check `alive` first to restart silently instead.

How the bytes move, and why:
- Pipes, not a pty. `pexpect.spawn` runs the child on a pseudo-terminal, which in its default
  (canonical) mode truncates input lines longer than 4095 bytes -- a proof with its header is
  often longer -- and turns every "\\n" of the output into "\\r\\n"; stderr would share the
  terminal with the JSON replies. `pexpect.popen_spawn.PopenSpawn` uses pipes but reads them
  1 KiB at a time in a thread and polls a queue in a busy loop. So the process is started with
  `subprocess.Popen` on plain pipes (its own session, hence its own process group, for killing)
  and its stdout is read with `pexpect.fdpexpect.fdspawn`, which blocks in poll() until bytes
  arrive (no sleeps, no polling loop) and reads up to `maxread` bytes per system call.
- The reply terminator is the first blank line: pretty-printed JSON never holds one (a JSON string
  cannot hold a raw newline). `expect_exact` with `searchwindowsize=None` searches only the
  fresh bytes plus the terminator's length of look-back (a positive window would search only
  the tail of each chunk and could miss a terminator in its middle), so a multi-MB reply costs linear time. The text
  before the terminator must then parse as JSON; text that is a prefix of a JSON value is kept
  and reading goes on (never seen from the real REPL, but cheap to be safe about).
- stderr goes to an unlinked temporary file, never into the JSON stream; its tail is attached to
  errors (Lean reports a panic or an uncaught exception there).
- The memory cap is RLIMIT_AS, set by `/bin/sh -c 'ulimit -v ...; exec ...'` rather than a
  Python `preexec_fn`, which is unsafe when the parent runs threads (a worker pool does).

One LeanRepl belongs to one thread at a time.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import pexpect
import psutil
from pexpect import fdpexpect

from theoremllama.errors import UserError
from theoremllama.lean.protocol import (CommandResponse, ErrorResponse, ProofStepResponse, ProtocolError, Reply,
                                        encode_request, parse_reply)

TERMINATOR = "\n\n"
TAIL_CHARS = 4000
"""How much of stderr / of a partial reply errors carry."""
READ_CHUNK = 1 << 20
"""Bytes asked for per read(): a multi-MB reply is read in a few system calls."""
PIPE_BYTES = 1 << 20
"""Pipe capacity asked of Linux (default 64 KiB), so a big reply needs fewer wake-ups."""
CLOSE_GRACE_S = 2.0
"""How long `close()` waits for the REPL to exit on end of input before killing it."""
RSS_TREE_REFRESH_S = 5.0
"""How often `rss_bytes()` looks for new descendants of the REPL process."""

# What Lean, C++ and Python print when an allocation fails (RLIMIT_AS makes mmap fail).
_OUT_OF_MEMORY = re.compile(r"out of memory|bad_alloc|MemoryError|Cannot allocate memory|memory exhausted",
                            re.IGNORECASE)


class ReplError(Exception):
    """The REPL process failed while serving a request."""

    def __init__(self, message: str, *, stderr_tail: str = "", output_tail: str = ""):
        super().__init__(message)
        self.stderr_tail = stderr_tail
        """The last TAIL_CHARS characters the process wrote to stderr."""
        self.output_tail = output_tail
        """The last TAIL_CHARS characters of the unfinished reply on stdout."""


class ReplTimeout(ReplError):
    """No reply within the wall-clock limit; the process group has been killed."""

    def __init__(self, message: str, *, timeout: float, **tails: str):
        super().__init__(message, **tails)
        self.timeout = timeout
        """The limit that expired, in seconds."""


class ReplDied(ReplError):
    """The process ended (exited, crashed or was killed) before answering."""

    def __init__(self, message: str, *, exit_status: int | None, signal: int | None, out_of_memory: bool,
                 answered: int = 0, **tails: str):
        super().__init__(message, **tails)
        self.answered = answered
        """Requests the process had answered before it died: 0 suggests it cannot start at all
        (e.g. `lake env` outside a built project), not that this request killed it."""
        self.exit_status = exit_status
        """The exit code, or None when a signal ended it."""
        self.signal = signal
        """The signal that ended it, or None."""
        self.out_of_memory = out_of_memory
        """True when it ran out of memory: an out-of-memory report, or a SIGKILL we did not send."""


class ReplGarbage(ReplError):
    """The process printed something that is not a REPL reply; it has been killed."""

    def __init__(self, message: str, *, text: str, **tails: str):
        super().__init__(message, **tails)
        self.text = text
        """What it printed (at most TAIL_CHARS characters)."""


class ReplBadRequest(ValueError):
    """A request that cannot be sent (text with no UTF-8 spelling, e.g. a lone surrogate); nothing
    was sent and the process is untouched."""


class ReplStartError(UserError):
    """The REPL command cannot be started at all (not found, not executable): a setup problem."""


def _tail(text: str) -> str:
    return text[-TAIL_CHARS:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class LeanRepl:
    """One REPL process. Use as a context manager, or call `close()`."""

    def __init__(self, cmd: str | Sequence[str], *, cwd: str | None = None, env: dict | None = None,
                 mem_limit_bytes: int | None = None, start_timeout: float = 60.0, name: str = ""):
        """
        cmd: the REPL command, e.g. "lake env .lake/build/bin/repl" (a string is split with
            shlex.split) or an argument list.
        cwd: the directory to run it in (the Lean project, for `lake env`).
        env: the process's whole environment (default: this process's).
        mem_limit_bytes: RLIMIT_AS for the process and its children (None: no cap).
        start_timeout: extra seconds allowed to the first request after a start, on top of its
            own timeout: the process must start (and e.g. `lake env` resolve its workspace) first.
        name: a label for error messages and logs (e.g. "repl-3").
        """
        argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
        if not argv:
            raise UserError("the Lean REPL command is empty")
        if mem_limit_bytes is not None and mem_limit_bytes < 1024:
            raise ValueError(f"mem_limit_bytes must be at least 1024, got {mem_limit_bytes}")
        self.argv: list[str] = argv
        self.cwd = cwd
        self.env = env
        self.mem_limit_bytes = mem_limit_bytes
        self.start_timeout = float(start_timeout)
        self.name = name or "repl"
        self.starts = 0
        """How many processes this object has started (a restart resets env numbering)."""
        self.uses = 0
        """Requests answered by the current process."""
        self._proc: subprocess.Popen | None = None
        self._reader: fdpexpect.fdspawn | None = None
        self._stdin = -1
        self._stderr: Any = None
        self._poll_out: Any = None
        self._fresh = False
        self._killed_by_us = False
        self._limit = 0.0
        self._tree: list | None = None  # psutil.Process of the process and its descendants (rss_bytes)
        self._tree_at = 0.0

    # ------------------------------------------------------------------ process lifetime

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self) -> None:
        """Spawn the process in its own session (so its process group can be killed whole).

        Does nothing if it is running. Raises ReplStartError if the command cannot be run."""
        if self.alive:
            return
        self.kill()  # a dead predecessor: reap it and whatever is left of its group
        argv = self._argv_with_limits()
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr = tempfile.TemporaryFile(prefix="lean-repl-stderr-")
        try:
            proc = subprocess.Popen(argv, stdin=stdin_r, stdout=stdout_w, stderr=stderr, cwd=self.cwd,
                                    env=self.env, start_new_session=True, close_fds=True)
        except OSError as e:
            for fd in (stdin_w, stdout_r):
                os.close(fd)
            stderr.close()
            raise ReplStartError(f"cannot start the Lean REPL `{shlex.join(self.argv)}`"
                                 f"{f' in {self.cwd}' if self.cwd else ''}: {e.strerror or e}") from None
        finally:
            os.close(stdin_r)
            os.close(stdout_w)
        for fd in (stdin_w, stdout_r):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except (AttributeError, OSError):
                pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default size works too
        # Writes never block: a REPL busy elaborating must not stall us past the deadline.
        os.set_blocking(stdin_w, False)
        reader = fdpexpect.fdspawn(stdout_r, timeout=None, maxread=READ_CHUNK, searchwindowsize=None,
                                   encoding="utf-8", codec_errors="replace", use_poll=True)
        reader.delayafterread = None  # pexpect sleeps 0.1 ms after every read by default
        self._poll_out = select.poll()
        self._poll_out.register(stdin_w, select.POLLOUT)
        self._proc, self._reader, self._stdin, self._stderr = proc, reader, stdin_w, stderr
        self._fresh, self._killed_by_us = True, False
        self._tree = None
        self.uses = 0
        self.starts += 1

    def _argv_with_limits(self) -> list[str]:
        if self.mem_limit_bytes is None:
            return self.argv
        # The shell execs the REPL (same pid); its exec failing is reported like Popen's would be.
        program = self.argv[0]
        if os.sep in program:
            found = os.path.join(self.cwd or "", program)
            runnable = os.path.isfile(found) and os.access(found, os.X_OK)
        else:
            runnable = shutil.which(program, path=(self.env or os.environ).get("PATH")) is not None
        if not runnable:
            raise ReplStartError(f"cannot start the Lean REPL `{shlex.join(self.argv)}`: "
                                 f"{program} is not an executable program")
        kib = max(1, self.mem_limit_bytes // 1024)
        return ["/bin/sh", "-c", 'ulimit -v "$0" && exec "$@"', str(kib), *self.argv]

    def kill(self) -> None:
        """SIGKILL the whole process group (and any descendant that left it), reap it. Idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            self._killed_by_us = True
            try:
                strays = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                strays = []
            self._killpg(proc.pid)
            for child in strays:  # a descendant may have started its own session
                try:
                    child.kill()
                except psutil.Error:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # stuck in the kernel (D state): nothing more to do
                pass
        else:
            self._killpg(proc.pid)  # the leader is gone; its group may not be
        self._release()

    @staticmethod
    def _killpg(pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self, grace: float = CLOSE_GRACE_S) -> None:
        """Polite shutdown: end of input (the REPL then exits), up to `grace` s of waiting, kill()."""
        proc = self._proc
        if proc is None:
            return
        if self._stdin >= 0:
            os.close(self._stdin)
            self._stdin = -1
        if proc.returncode is None:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _release(self) -> None:
        """Forget the current process: close our ends of its pipes and its stderr file."""
        if self._reader is not None:
            self._reader.close()
        if self._stdin >= 0:
            os.close(self._stdin)
        if self._stderr is not None:
            self._stderr.close()
        self._proc, self._reader, self._stdin, self._stderr, self._poll_out = None, None, -1, None, None

    def __enter__(self) -> "LeanRepl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.kill()
        except Exception:  # interpreter shutdown: modules may already be gone
            pass

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.alive else "stopped"
        return f"LeanRepl({self.name!r}, {state}, uses={self.uses}, starts={self.starts})"

    def rss_bytes(self) -> int:
        """Resident memory of the process and all its descendants (0 when not running).

        Called after every proof (recycling threshold), so it must be cheap: reading one
        process's memory is ~0.1 ms, but listing descendants scans all of /proc (~4 ms), so the
        list of descendants is refreshed at most every RSS_TREE_REFRESH_S seconds."""
        if not self.alive:
            return 0
        now = time.monotonic()
        try:
            if self._tree is None or now - self._tree_at > RSS_TREE_REFRESH_S:
                root = psutil.Process(self._proc.pid)
                self._tree, self._tree_at = [root, *root.children(recursive=True)], now
        except psutil.Error:
            return 0
        total = 0
        for p in self._tree:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def stderr_tail(self) -> str:
        """The last TAIL_CHARS characters the current process wrote to stderr."""
        if self._stderr is None:
            return ""
        fd = self._stderr.fileno()
        size = os.fstat(fd).st_size
        # pread leaves the shared file offset alone: the child keeps appending where it was.
        data = os.pread(fd, TAIL_CHARS * 4, max(0, size - TAIL_CHARS * 4))
        return _tail(data.decode("utf-8", errors="replace"))

    # ------------------------------------------------------------------ requests

    def send(self, request: dict, timeout: float) -> Reply:
        """Send one request, wait at most `timeout` seconds for its reply, type it.

        Starts the process if none is running. Raises ReplBadRequest (a ValueError) for a request
        that cannot be encoded, ValueError for a timeout that is not a positive finite number (the process is untouched);
        ReplTimeout / ReplDied / ReplGarbage when the process fails (it is then gone)."""
        try:
            line = encode_request(request).encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate: no UTF-8 spelling, the REPL could not read it
            bad = e.object[e.start:e.end]
            raise ReplBadRequest(f"the text holds {bad!r}, which has no UTF-8 spelling ({e.reason})") from None
        if not (0 < timeout < math.inf):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        if self._proc is not None and self._proc.poll() is not None:
            raise self._died("before its first request" if self._fresh else "between requests", "")
        if self._proc is None:
            self.start()
        self._limit = timeout + (self.start_timeout if self._fresh else 0.0)
        deadline = time.monotonic() + self._limit
        what = self._describe(line)
        try:
            self._check_in_sync(what)
            self._write(line, deadline, what)
            reply = self._read_reply(deadline, what)
        except ReplError:
            raise  # the process is already gone
        except BaseException:
            # Interrupted mid-request (Ctrl-C, a signal handler's exception, a bug): its reply may
            # still come and would be taken for the next request's. Only a fresh process is safe.
            self.kill()
            raise
        self._fresh = False
        self.uses += 1
        return reply

    def command(self, code: str, env: int | None = None, *, timeout: float,
                **options: Any) -> CommandResponse | ErrorResponse:
        """Run Lean code: in a fresh environment (imports allowed) or on top of environment `env`.

        options: REPL command options, e.g. allTactics=True (or all_tactics=True), rootGoals,
        infotree="substantive"; None values are left out."""
        request: dict = {"cmd": code}
        if env is not None:
            request["env"] = env
        request.update({_snake_to_camel(k): v for k, v in options.items() if v is not None})
        return self._expect_kind(self.send(request, timeout), CommandResponse, request)

    def tactic(self, tactic: str, proof_state: int, *, timeout: float) -> ProofStepResponse | ErrorResponse:
        """Run one tactic in proof state `proof_state` (from a sorry or an earlier tactic)."""
        request = {"tactic": tactic, "proofState": proof_state}
        return self._expect_kind(self.send(request, timeout), ProofStepResponse, request)

    def file(self, path: str, env: int | None = None, *, timeout: float,
             **options: Any) -> CommandResponse | ErrorResponse:
        """Check a Lean file (a path the REPL process can read)."""
        request: dict = {"path": str(path)}
        if env is not None:
            request["env"] = env
        request.update({_snake_to_camel(k): v for k, v in options.items() if v is not None})
        return self._expect_kind(self.send(request, timeout), CommandResponse, request)

    def _expect_kind(self, reply: Reply, kind: type, request: dict) -> Any:
        if isinstance(reply, (kind, ErrorResponse)):
            return reply
        text = json.dumps(reply.raw, ensure_ascii=False)
        self.kill()
        raise ReplGarbage(f"{self.name}: a {type(reply).__name__} came back to "
                          f"{self._describe(encode_request(request).encode())}: out of sync", text=_tail(text))

    # ------------------------------------------------------------------ the wire

    @staticmethod
    def _describe(line: bytes) -> str:
        text = line.decode("utf-8", errors="replace").strip()
        return text if len(text) <= 120 else text[:117] + "..."

    def _check_in_sync(self, what: str) -> None:
        """Nothing may be waiting on stdout before a request: a stray reply would be taken for
        the answer to this one. Costs one poll() with a zero timeout."""
        reader = self._reader
        pending = reader.buffer
        try:
            while True:
                pending += reader.read_nonblocking(READ_CHUNK, timeout=0)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            raise self._died("between requests", pending) from None
        if pending.strip():
            self.kill()
            raise ReplGarbage(f"{self.name}: unsolicited output before {what}", text=_tail(pending))

    def _write(self, data: bytes, deadline: float, what: str) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._stdin, view):]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timed_out(what, "") from None
                self._poll_out.poll(remaining * 1000)
            except (BrokenPipeError, ConnectionResetError):
                raise self._died(f"while being sent {what}", "") from None

    def _read_reply(self, deadline: float, what: str) -> Reply:
        reader = self._reader
        text = ""
        while True:
            try:
                reader.expect_exact(TERMINATOR, timeout=max(0.0, deadline - time.monotonic()))
            except pexpect.TIMEOUT:
                raise self._timed_out(what, text + reader.before) from None
            except pexpect.EOF:
                raise self._died(f"before answering {what}", text + reader.before) from None
            text += reader.before
            if not text.strip():
                text = ""
                continue  # a stray blank line between replies
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                if e.pos >= len(text.rstrip()):
                    text += TERMINATOR  # an unfinished JSON value: read on to the next blank line
                    continue
                self.kill()
                raise ReplGarbage(f"{self.name}: not a JSON reply to {what}: {e.msg}",
                                  text=_tail(text)) from None
            try:
                return parse_reply(obj)
            except ProtocolError as e:
                self.kill()
                raise ReplGarbage(f"{self.name}: unrecognised reply to {what}: {e}", text=_tail(text)) from None

    def _timed_out(self, what: str, partial: str) -> ReplTimeout:
        stderr = self.stderr_tail()
        limit = self._limit
        self.kill()
        return ReplTimeout(f"{self.name}: no reply within {limit:g}s to {what}", timeout=limit,
                           stderr_tail=stderr, output_tail=_tail(partial))

    def _died(self, when: str, partial: str) -> ReplDied:
        proc = self._proc
        killed_by_us, answered = self._killed_by_us, self.uses
        try:
            # stdout closed: the process is exiting (or gone); give it a moment to be reaped.
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass  # it closed stdout but lives on: kill() below ends it
        stderr = self.stderr_tail()
        code = proc.returncode
        self.kill()
        exit_status = code if code is not None and code >= 0 else None
        sig = -code if code is not None and code < 0 else None
        out_of_memory = bool(_OUT_OF_MEMORY.search(stderr) or _OUT_OF_MEMORY.search(partial)) or (
            sig == signal.SIGKILL and not killed_by_us)
        how = f"exit status {exit_status}" if exit_status is not None else (
            f"signal {_signal_name(sig)}" if sig else "unknown status")
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        return ReplDied(f"{self.name}: the REPL died {when} ({how}{', out of memory' if out_of_memory else ''})"
                        f"{': ' + detail if detail else ''}", exit_status=exit_status, signal=sig,
                        out_of_memory=out_of_memory, answered=answered, stderr_tail=stderr,
                        output_tail=_tail(partial))
