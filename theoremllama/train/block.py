"""Block training: each record is learnt with the records trained just before it as worked examples.

TheoremLlama's ablation credits most of its gain to this. For record i, its training sequence is
one chat conversation with several user/assistant turns:

    system      SYSTEM_PROMPT
    user/asst   [tail of record j_m's exchange]     <- only with fill="exact": the farthest example,
                                                       cut at the front so the sequence is full
    user/asst   record j_(m-1): instruction, full answer
    ...
    user/asst   record j_1: instruction, full answer
    user        record i's instruction
    assistant   record i's answer                   <- the only tokens with a loss

where j_1, j_2, ... walk backwards through the training order as a ring (i-1, i-2, ..., wrapping
from the first record to the last), nearest example closest to i. Examples are added while they
fit in `max_seq_len`. The walk stops before it comes back to i, and skips any record whose answer
is a duplicate of i's (same answer text, or the same proof code once comments are removed): no
token of i's answer can be read from its own context. With fill="whole" only whole exchanges are
used (the rest is padding); with fill="exact" the space left is filled with the end of the next
exchange, so sequences come out full (padding near zero).

Deterministic: the ring is the training order, which is fixed by the seed (or the curriculum).
"""

from __future__ import annotations

from theoremllama.train.format import IGNORE_INDEX, EncodedRecord, single_example

FILL_MODES = ("exact", "whole")


def block_example(prefix_ids: list[int], records: list[EncodedRecord], ring: list[int],
                  ring_pos: int, max_seq_len: int, fill: str = "exact") -> dict | None:
    """The block-training sample for the record at `ring[ring_pos]`.

    prefix_ids: the system turn's ids; records: every encoded record (indexed by `ring` entries);
    ring: the training order, as indices into `records`; ring_pos: the position of the target
    record in it. Returns {"input_ids", "labels", "record_idx", "context_records"} (the last:
    the `idx` of each worked example, farthest first, for audits and tests), or None if the
    record's prompt alone fills the sequence."""
    if fill not in FILL_MODES:
        raise ValueError(f"fill must be one of {FILL_MODES}, got {fill!r}")
    target = records[ring[ring_pos]]
    budget = max_seq_len - len(prefix_ids) - len(target)
    if budget <= 0:  # no room for any example: the record alone, its answer cut if need be
        sample = single_example(prefix_ids, target, max_seq_len)
        if sample is not None:
            sample["context_records"] = []
        return sample

    n = len(ring)
    pieces: list[list[int]] = []  # nearest example first
    used: list[int] = []
    for step in range(1, n):  # never step n: that would be the target itself
        other = records[ring[(ring_pos - step) % n]]
        if other.answer_text == target.answer_text or other.code_key == target.code_key:
            continue  # a duplicate of the target's answer would leak it
        if len(other) <= budget:
            pieces.append(other.query_ids + other.answer_ids)
            used.append(other.idx)
            budget -= len(other)
            if budget == 0:
                break
        else:
            if fill == "exact":
                pieces.append((other.query_ids + other.answer_ids)[len(other) - budget:])
                used.append(other.idx)
            break

    context = list(prefix_ids)
    for piece in reversed(pieces):  # farthest first, nearest last
        context += piece
    context += target.query_ids
    return {"input_ids": context + target.answer_ids,
            "labels": [IGNORE_INDEX] * len(context) + list(target.answer_ids),
            "record_idx": target.idx,
            "context_records": used[::-1]}
