#!/usr/bin/env python3
"""Play the REPL's side of a recorded transcript (a test double; the product never imports it).

    replay_repl.py NAME.in [NAME.expected.out]

Reads requests from stdin exactly as leanprover-community/repl does (`getLines` in
REPL/Main.lean: lines up to a blank line, each stripped of trailing whitespace, concatenated;
input starting with `#` or `--` skipped; end of input ends the process; input that is not JSON
kills it with an "uncaught exception" on stderr). Each request must equal the next recorded one
(as a JSON value); the recorded reply is then written byte for byte as the REPL wrote it, followed
by the blank line the REPL prints. A request that differs gets a `{"message": "replay: ..."}`
error reply instead, so a test sees the mismatch. Only the standard library is used: a test
double never imports the product (the `.in` files are read by `recorded_requests`, the REPL's
reader again, not by `theoremllama.lean.protocol`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WHITESPACE = " \t\r\n"


def recorded_requests(path: Path) -> list:
    """The requests of an .in file, read as `getLines` reads stdin: lines up to a blank line,
    each stripped of trailing whitespace, concatenated; chunks starting with `#` or `--` skipped."""
    out, query = [], []
    for line in path.read_text(encoding="utf-8").split("\n") + [""]:
        if line.strip(WHITESPACE):
            query.append(line.rstrip(WHITESPACE))
            continue
        joined, query = "".join(query), []
        if joined and not joined.startswith("#") and not joined.startswith("--"):
            out.append(json.loads(joined))
    return out


def recorded_replies(path: Path) -> list[str]:
    """The reply chunks of an .expected.out file, as written (pretty JSON never holds a blank line)."""
    if not path.exists():
        return []
    return [chunk.strip("\n") for chunk in path.read_text(encoding="utf-8").split("\n\n") if chunk.strip()]


def read_query(stdin) -> str:
    """One query, as the REPL's getLines builds it."""
    parts: list[str] = []
    while True:
        line = stdin.readline().decode("utf-8", errors="replace")
        if not line.strip(WHITESPACE):
            return "".join(parts) + line
        parts.append(line.rstrip(WHITESPACE))


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    requests_path = Path(argv[1])
    replies_path = Path(argv[2]) if len(argv) == 3 else requests_path.with_suffix(".expected.out")
    requests = recorded_requests(requests_path)
    replies = recorded_replies(replies_path)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    index = 0
    while True:
        query = read_query(stdin)
        if query == "":
            return 0  # end of input: the REPL exits quietly
        if query.startswith("#") or query.startswith("--"):
            continue
        try:
            request = json.loads(query)
        except json.JSONDecodeError as e:
            print(f'uncaught exception: {{"message": "Could not parse JSON:\\n{e}"}}', file=sys.stderr)
            return 1
        if index >= len(requests):
            reply = json.dumps({"message": f"replay: request {index + 1} is past the end of {requests_path.name}"})
        elif request != requests[index]:
            reply = json.dumps({"message": f"replay: request {index + 1} differs from {requests_path.name}: "
                                           f"got {json.dumps(request, ensure_ascii=False)}, recorded "
                                           f"{json.dumps(requests[index], ensure_ascii=False)}"},
                               ensure_ascii=False)
        elif index >= len(replies):
            reply = json.dumps({"message": f"replay: no recorded reply {index + 1} for {requests_path.name}"})
        else:
            reply = replies[index]
        index += 1
        stdout.write(reply.encode("utf-8") + b"\n\n")
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
