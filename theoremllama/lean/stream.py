"""Verdict futures -> verdicts in input order, appended to a JSONL file in input order as they come.

Shared by the verifiers that check elsewhere (`RemoteVerifier`, `RayVerifier`): a verdict is written
once every verdict before it is written, so the file is always a prefix of the input's order and a
killed run resumes (`theoremllama verify` skips the ids already in the file) losing only verdicts
that were not yet written.
"""

from __future__ import annotations

import concurrent.futures

from tqdm import tqdm

from theoremllama.data.jsonl import JsonlWriter
from theoremllama.lean.verdict import Verdict


def collect_in_order(futures: list[concurrent.futures.Future], out_path: str | None = None, *,
                     progress: bool = False) -> list[Verdict]:
    writer = None
    if out_path is not None:
        writer = JsonlWriter(out_path)
    where = {f: i for i, f in enumerate(futures)}
    results: list[Verdict | None] = [None] * len(futures)
    written = 0
    bar = tqdm(total=len(futures), desc="verify", unit="proof", disable=not progress, dynamic_ncols=True)
    try:
        for future in concurrent.futures.as_completed(futures):
            results[where[future]] = future.result()
            bar.update(1)
            while written < len(results) and results[written] is not None:
                if writer is not None:
                    writer.write(results[written])
                written += 1
    finally:
        bar.close()
        if writer is not None:
            writer.close()
        for future in futures:
            future.cancel()  # after an error or Ctrl-C: nobody waits for the rest
    return results  # type: ignore[return-value]
