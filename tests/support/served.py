"""Our FastAPI app under a real uvicorn server on loopback, in a thread (tests only; not a double:
the app and the pool are the product's own; the Lean REPL behind them is the double)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn

from theoremllama.lean import Verifier, VerifyJob
from theoremllama.serve.app import Limits, create_app

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")]
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"


def job(i, proof, header=HEADER) -> VerifyJob:
    return VerifyJob(id=str(i), statement=f"theorem p{i} (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                     proof=proof, header=header)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`create_app(verifier, limits)` under uvicorn in a thread, on 127.0.0.1:port."""

    def __init__(self, verifier, limits: Limits | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(verifier, limits), host="127.0.0.1", port=self.port,
                                log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


