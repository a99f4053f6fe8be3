"""Make data/examples/minif2f_valid_commented.jsonl: the shipped input for `theoremllama verify`.

One verify-input record per record of
data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json (106, in file order):
    id          the theorem's name in `Statement` (`#2`, `#3` appended to a name seen before:
                the published file repeats a few statements)
    header      the MiniF2F header (data/minif2f/minif2f.jsonl; the same for every problem)
    statement   `Statement` as published (ends in `:=`; for imo_1979_p1, whose published
                Statement goes on with `sorry`, cut after its `:=`)
    proof       `Commented_proof` after its copy of the statement; the 13 records published
                without a `Commented_proof` use `Proof` the same way (a `sorry` placeholder:
                the verifier rejects them, as it should)
    source_name `Name` as published (for 14 records it is a truncated name)
    source_index the record's 0-based position in the published file

Run from the repository root:  .venv/bin/python scripts/make_examples.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json"
MINIF2F = ROOT / "data/minif2f/minif2f.jsonl"
TARGET = ROOT / "data/examples/minif2f_valid_commented.jsonl"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from theoremllama.data.jsonl import atomic_write_jsonl
    from theoremllama.lean.job import strip_repeated_statement

    headers = {json.loads(line)["header"] for line in MINIF2F.read_text(encoding="utf-8").splitlines() if line}
    if len(headers) != 1:
        raise SystemExit(f"{MINIF2F}: expected one header shared by all problems, found {len(headers)}")
    header = headers.pop()
    seen: dict[str, int] = {}
    records = []
    for index, r in enumerate(json.loads(SOURCE.read_text(encoding="utf-8"))):
        statement = r["Statement"]
        if not statement.rstrip().endswith(":="):  # one record publishes `:=\n  sorry` in its Statement
            statement = statement[:statement.rindex(":=") + 2]
        name = re.search(r"(?:theorem|lemma)\s+(\S+)", statement).group(1)
        seen[name] = seen.get(name, 0) + 1
        full_proof = r.get("Commented_proof") or r["Proof"]
        proof = strip_repeated_statement(full_proof, statement).lstrip(" ")
        if proof == full_proof:
            raise SystemExit(f"{SOURCE}: record {index} ({name}): the proof does not start with its statement")
        records.append({"id": name if seen[name] == 1 else f"{name}#{seen[name]}", "header": header,
                        "statement": statement, "proof": proof, "source_name": r["Name"],
                        "source_index": index})
    atomic_write_jsonl(TARGET, records)
    print(f"wrote {len(records)} records to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
