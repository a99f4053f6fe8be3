"""Throughput of the bootstrap pipeline against an OpenAI-compatible server on loopback.

    .venv/bin/python benchmarks/bootstrap_throughput.py [--latencies 0 0.2] [--concurrency 1 8 64]

Each theorem costs two requests (informalize, weave) when the model answers well, so with a
server latency L and C requests in flight the ideal is C / L requests/s (C / 2L theorems/s).
The server (tests/support/openai_server.py) answers instantly after its scripted latency, so
what is measured is the pipeline's own overhead: prompting, HTTP, parsing, the comment check,
writing records.

Retrieval is left out on purpose (`examples.encoder: null`: the first k seed examples, a fixed
few-shot prompt), so sentence embedding does not dominate; in a real run the queries are
embedded once, in batches, before the job starts (and cached on disk).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.openai_server import ScriptedOpenAIServer  # noqa: E402

from theoremllama.bootstrap.config import config_from_dict  # noqa: E402
from theoremllama.bootstrap.pipeline import run_bootstrap  # noqa: E402


def proof(i: int) -> str:
    return f"theorem bench_{i} (x : ℕ) (h : x = {i}) : x + 0 = {i} := by\n  subst h\n  simp"


def responder(body: dict) -> str:
    last = body["messages"][-1]["content"]
    i = int(last.split("theorem bench_")[1].split()[0])
    if last.startswith("Lean 4 theorem:"):
        return (f"# Informal statement\nIf x = {i} then x + 0 = {i}.\n\n# Informal proof\n"
                f"Substitute x = {i}; adding zero changes nothing, so both sides are {i}.")
    commented = proof(i).replace("  subst h", f"  -- Substitute x = {i}.\n  subst h")
    return f"```lean4\n{commented}\n```"


def run_one(latency: float, concurrency: int, theorems: int, workdir: Path) -> dict:
    workdir.mkdir(parents=True)
    with open(workdir / "in.jsonl", "w") as f:
        for i in range(theorems):
            f.write(json.dumps({"idx": i, "Name": f"bench_{i}", "Statement": proof(i).split(":= by")[0] + ":=",
                                "Proof": proof(i)}) + "\n")
    with ScriptedOpenAIServer(responder, latency=latency) as server:
        config = config_from_dict({
            "input": str(workdir / "in.jsonl"), "output": str(workdir / "out"),
            "llm": {"backend": "openai", "model": "bench", "base_url": server.base_url, "concurrency": concurrency},
            "examples": {"k": 2, "encoder": None}, "concurrency": concurrency, "iterate": False})
        summary = run_bootstrap(config, progress=False)
        assert summary.accepted == theorems, summary
        return {"latency_s": latency, "concurrency": concurrency, "theorems": theorems,
                "requests": len(server.requests), "seconds": summary.run_seconds,
                "records_per_s": round(theorems / summary.run_seconds, 1),
                "requests_per_s": round(len(server.requests) / summary.run_seconds, 1),
                "max_in_flight": server.max_in_flight}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--seconds", type=float, default=4.0, help="target duration of each latency>0 run")
    parser.add_argument("--zero-latency-theorems", type=int, default=400)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for latency in args.latencies:
            for c in args.concurrency:
                if latency > 0:  # enough theorems for ~args.seconds at the ideal rate
                    n = max(c, int(args.seconds * c / latency / 2))
                else:
                    n = args.zero_latency_theorems
                row = run_one(latency, c, n, Path(tmp) / f"l{latency}-c{c}")
                if latency > 0:
                    ideal = c / latency
                    row["ideal_requests_per_s"] = ideal
                    row["fraction_of_ideal"] = round(row["requests_per_s"] / ideal, 3)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print("\nlatency  conc  theorems  records/s  requests/s  of ideal")
    for r in rows:
        frac = f"{r['fraction_of_ideal']:.2f}" if "fraction_of_ideal" in r else "   -"
        print(f"{r['latency_s']:7.2f}  {r['concurrency']:4d}  {r['theorems']:8d}  {r['records_per_s']:9.1f}  "
              f"{r['requests_per_s']:10.1f}  {frac:>8}")


if __name__ == "__main__":
    main()
