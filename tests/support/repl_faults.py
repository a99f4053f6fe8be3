#!/usr/bin/env python3
"""Stand-ins for a misbehaving Lean REPL process (a test double; the product never imports it).

    repl_faults.py MODE [ARG]

Each mode reads requests in the REPL's framing (lines up to a blank line) and then:
    echo          answers every request with a command reply whose one message holds the request
    hang ARG      starts a grandchild that sleeps, writes its pid to the file ARG, never answers
    die_mid_reply writes the start of a reply, then exits with status 3
    garbage       answers with a line of text that is not JSON
    double_reply  answers every request twice (a stream out of sync)
    rlimit        answers with the RLIMIT_AS it runs under: {"env": 0, "rlimitAs": soft}
    alloc ARG     allocates ARG bytes, then answers {"env": 0}
    big ARG       answers with a message of ARG characters (multi-line, non-ASCII)
    stderr_noise  writes to stderr before each answer; after the 2nd request dies with a note there
    ignore_eof    answers like echo but ignores end of input (sleeps forever)
    deaf          never reads its input (a REPL stuck elaborating)
    blank_inside  answers with a reply broken by a blank line inside the JSON value
    sigkill ARG   answers like echo, but a request whose code holds ARG makes it SIGKILL itself
                  (what the kernel's OOM killer does to a Lean process that outgrows the machine)
Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time


def read_request() -> dict | None:
    lines: list[str] = []
    while True:
        line = sys.stdin.buffer.readline().decode("utf-8")
        if not line.strip():
            if not lines:
                return None if line == "" else read_request()
            return json.loads("".join(lines))
        lines.append(line.rstrip())


def answer(obj: dict) -> None:
    # Pretty-printed over several lines, like the REPL.
    sys.stdout.buffer.write(json.dumps(obj, indent=1, ensure_ascii=False).encode("utf-8") + b"\n\n")
    sys.stdout.buffer.flush()


def echo(request: dict, n: int) -> dict:
    return {"env": n, "messages": [{"severity": "info", "pos": {"line": 1, "column": 0},
                                    "endPos": None, "data": request.get("cmd", json.dumps(request))}]}


def main(mode: str, arg: str | None) -> int:
    if mode == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(arg, "w") as f:
            f.write(str(child.pid))
        read_request()
        time.sleep(600)
        return 0
    if mode == "deaf":
        time.sleep(600)
        return 0
    if mode == "alloc":
        read_request()
        block = bytearray(int(arg))  # MemoryError under a smaller RLIMIT_AS
        answer({"env": len(block) and 0})
        return 0
    n = 0
    while True:
        request = read_request()
        if request is None:
            if mode == "ignore_eof":
                time.sleep(600)
            return 0
        if mode == "echo" or mode == "ignore_eof":
            answer(echo(request, n))
        elif mode == "sigkill":
            if arg in str(request.get("cmd", "")):
                os.kill(os.getpid(), signal.SIGKILL)
            answer(echo(request, n))
        elif mode == "die_mid_reply":
            sys.stdout.write('{"env":\n')
            sys.stdout.flush()
            os._exit(3)
        elif mode == "garbage":
            sys.stdout.write("uh-oh, this is not JSON\n\n")
            sys.stdout.flush()
        elif mode == "double_reply":
            answer(echo(request, n))
            answer(echo(request, n))
        elif mode == "blank_inside":
            sys.stdout.write('{"env":\n\n %d}\n\n' % n)
            sys.stdout.flush()
        elif mode == "rlimit":
            answer({"env": 0, "rlimitAs": resource.getrlimit(resource.RLIMIT_AS)[0]})
        elif mode == "big":
            size = int(arg)
            unit = "∀ x : ℕ, x = x\n"
            data = (unit * (size // len(unit) + 1))[:size]
            answer({"env": n, "messages": [{"severity": "info", "pos": {"line": 1, "column": 0},
                                            "endPos": {"line": 2, "column": 3}, "data": data}]})
        elif mode == "stderr_noise":
            sys.stderr.write("noise on stderr {\"env\": 99}\n\n")
            sys.stderr.flush()
            if n == 1:
                sys.stderr.write("INTERNAL PANIC: something broke\n")
                return 4
            answer(echo(request, n))
        else:
            print(f"unknown mode {mode}", file=sys.stderr)
            return 2
        n += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
