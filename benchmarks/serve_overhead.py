"""What checking through `theoremllama serve` costs per proof over the in-process pool.

    .venv/bin/python benchmarks/serve_overhead.py [--proofs 2000] [--workers 1]

The same N trivial proofs (REPL test double, tests/support/fake_lean_repl.py: a benchmark of the
service, not of Lean) are checked (a) by an in-process `Verifier`, (b) by a `RemoteVerifier`
posting to `theoremllama serve` (a subprocess on loopback, the same pool options) in batches of 1
(one request per proof, `concurrency` requests in flight) and (c) in batches of 64. Printed: proofs/s
of each, and the service overhead per proof, (remote wall - in-process wall) / N
(target: < 2 ms per proof at >= 500 proofs/s).
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from theoremllama.lean import Verifier, VerifyJob  # noqa: E402
from theoremllama.serve.client import RemoteVerifier  # noqa: E402

DOUBLE = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
HEADER = "import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen BigOperators Real Nat Topology Rat\n"


def jobs(n: int, tag: str) -> list[VerifyJob]:
    return [VerifyJob(f"{tag}{i}", f"theorem b_{tag}{i} (x : ℕ) (h : x = 2) : x + x = 4 := by\n", "  norm_num", HEADER)
            for i in range(n)]


def timed(verifier, batch: list[VerifyJob]) -> float:
    verifier.verify_many(batch[:50])  # warm: header imported, connections open
    start = time.perf_counter()
    out = verifier.verify_many(batch)
    elapsed = time.perf_counter() - start
    if not all(v.passed for v in out):
        raise SystemExit("benchmark proofs failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (batches of 1)")
    args = parser.parse_args()
    n = args.proofs
    with Verifier(DOUBLE, workers=args.workers, timeout=60, max_uses=10**9, progress=False) as v:
        local = timed(v, jobs(n, "l"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "theoremllama.cli", "serve", "--repl-cmd", shlex.join(DOUBLE),
                               "--workers", str(args.workers), "--max-uses", str(10**9), "--port", str(port)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                requests.get(f"{url}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        results = {}
        for batch in (1, 64):
            with RemoteVerifier(url, batch_size=batch, concurrency=args.concurrency, progress=False) as r:
                results[batch] = timed(r, jobs(n, f"r{batch}_"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"in-process pool ({args.workers} worker): {n} trivial proofs in {local:.3f}s = {n / local:.0f} proofs/s")
    for batch, wall in results.items():
        print(f"service, batches of {batch:>2} ({args.concurrency} requests in flight): {wall:.3f}s = "
              f"{n / wall:.0f} proofs/s -> overhead {(wall - local) / n * 1000:.3f} ms/proof, "
              f"{wall / local:.2f}x the in-process wall (target < 2 ms/proof at >= 500 proofs/s)")


if __name__ == "__main__":
    main()
