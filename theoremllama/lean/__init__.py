"""The Lean harness: a pool of Lean REPL processes and the verdict on each proof (see verdict.py
for what a passing verdict guarantees).

    from theoremllama.lean import Verifier, VerifyJob

Modules, in the order a proof meets them:
    syntax.py    Lean's lexical structure: comments, strings, where a statement ends
    header.py    split a submission into its header (imports, options) and its body
    policy.py    forbidden constructs, rejected before anything runs
    protocol.py  the REPL's wire protocol as typed replies
    repl.py      one REPL process: requests, timeouts, memory cap, crash detection
    job.py       VerifyJob -> PreparedJob: header split, namespace, splicing or lemma style, policy
    checks.py    the #check / #print axioms commands run after a proof, and their parsers
    worker.py    one REPL bound to one header: runs a proof and its checks
    pool.py      the Verifier pool (verify_many / submit)
    verdict.py   Verdict and its reasons
    cli.py       `theoremllama verify`;  setup.py  `theoremllama setup-lean`
    open.py      open_verifier: in-process, a server (RemoteVerifier) or Ray (ray_pool.py, stream.py)

Names are imported lazily: `theoremllama.lean.syntax` (used by the data layer) should not pull
in the pool, pexpect or tqdm.
"""

from __future__ import annotations

__all__ = ["Verifier", "VerifyJob", "Verdict"]


# imported on first use: `theoremllama.lean.syntax` (used by the data layer) stays free of the pool
def __getattr__(name: str):
    if name == "Verifier":
        from theoremllama.lean.pool import Verifier

        return Verifier
    if name == "VerifyJob":
        from theoremllama.lean.job import VerifyJob

        return VerifyJob
    if name == "Verdict":
        from theoremllama.lean.verdict import Verdict

        return Verdict
    raise AttributeError(f"module 'theoremllama.lean' has no attribute {name!r}")
