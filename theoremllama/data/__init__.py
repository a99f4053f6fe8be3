"""Typed records and their storage: the one currency every stage trades in."""

from theoremllama.data.records import (  # noqa: F401
    OBT_COLUMNS,
    OBTRecord,
    Problem,
    ProofAttempt,
    TheoremRecord,
)
from theoremllama.data.jsonl import (  # noqa: F401,E402  (light: no `datasets` import)
    JsonlWriter,
    atomic_write_jsonl,
    atomic_write_text,
    read_jsonl,
)
from theoremllama.data.formats import read_records  # noqa: F401,E402  (`datasets` is imported on use)
