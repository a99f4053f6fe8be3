"""RayVerifier on 1 and 2 simulated nodes: throughput and header imports.

    .venv/bin/python benchmarks/ray_throughput.py [--proofs 40] [--sleep-ms 200]

A local Ray cluster (`ray.cluster_utils.Cluster`) with nodes of 1 CPU each, one REPL per node; the
proofs are latency-bound (`double_sleep_<ms>` of the REPL test double, tests/support/
fake_lean_repl.py: the node's REPL is busy, not its Python), as Lean is. Printed: proofs/s with 1
and with 2 nodes and their ratio (target >= 1.8x), and the header imports per node for a batch
mixing two headers (target: one per node per header it serves, plus restarts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theoremllama.lean import VerifyJob  # noqa: E402

DOUBLE = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
HEADERS = ("import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\n", "import Mathlib\n")


def jobs(n: int, sleep_ms: int, tag: str, headers=HEADERS[:1]) -> list[VerifyJob]:
    return [VerifyJob(f"{tag}{i}", f"theorem t_{tag}{i} (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                      f"  double_sleep_{sleep_ms}\n  norm_num", headers[i % len(headers)]) for i in range(n)]


def run(nodes: int, n: int, sleep_ms: int) -> tuple[float, dict, dict]:
    import ray
    from ray.cluster_utils import Cluster

    from theoremllama.lean.ray_pool import RayVerifier

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": 4 * 2**30})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, memory=4 * 2**30)
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    cluster.wait_for_nodes()
    try:
        with RayVerifier(repl_cmd=DOUBLE, timeout=60, max_uses=10**9, progress=False) as v:
            v.verify_many(jobs(2 * nodes, 1, f"w{nodes}_", HEADERS))  # warm: actors up, both headers imported
            start = time.perf_counter()
            out = v.verify_many(jobs(n, sleep_ms, f"n{nodes}_", HEADERS))
            elapsed = time.perf_counter() - start
            stats = v.stats()
        if not all(x.passed for x in out):
            raise SystemExit("benchmark proofs failed")
        return n / elapsed, stats, {"nodes": nodes}
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=40)
    parser.add_argument("--sleep-ms", type=int, default=200)
    args = parser.parse_args()
    rate1, stats1, _ = run(1, args.proofs, args.sleep_ms)
    rate2, stats2, _ = run(2, args.proofs, args.sleep_ms)
    print(f"{args.proofs} proofs of {args.sleep_ms} ms, two headers alternating, 1 REPL per node:")
    print(f"  1 node : {rate1:.2f} proofs/s (ideal {1000 / args.sleep_ms:.2f}); header imports per node "
          f"{stats1['header_imports_by_node']}, restarts {stats1['restarts']}")
    print(f"  2 nodes: {rate2:.2f} proofs/s; header imports per node {stats2['header_imports_by_node']}, "
          f"restarts {stats2['restarts']}")
    print(f"  -> {rate2 / rate1:.2f}x with 2 nodes (target >= 1.8x)")


if __name__ == "__main__":
    main()
