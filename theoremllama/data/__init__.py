"""Typed records and their storage: the one currency every stage trades in."""

from theoremllama.data.records import (  # noqa: F401
    OBT_COLUMNS,
    OBTRecord,
    Problem,
    ProofAttempt,
    TheoremRecord,
)
