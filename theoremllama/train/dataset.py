"""The training dataset and batch collation: encoded records -> padded tensors.

`SFTDataset[k]` is the training sample of the k-th record of the loaded file, built on demand
(block-training samples are several thousand tokens each; building them lazily keeps memory at
one copy of the tokenized records). The order in which samples are drawn is not decided here but
by the sampler (`curriculum.OrderedSampler`).
"""

from __future__ import annotations

import logging

import torch

from theoremllama.train.block import block_example
from theoremllama.train.format import IGNORE_INDEX, EncodedRecord, single_example

log = logging.getLogger(__name__)


class SFTDataset(torch.utils.data.Dataset):
    """Record k -> {"input_ids", "labels", "record_idx"}: one record alone, or its block sample."""

    def __init__(self, prefix_ids: list[int], records: list[EncodedRecord], order: list[int],
                 max_seq_len: int, *, block_training: bool, block_fill: str = "exact"):
        """order: the training order (indices into `records`), which is also block training's ring.

        Records whose target holds `sorry` (`EncodedRecord.has_sorry`) are refused whatever the
        caller asks: left out of the order and of the ring (never a worked example either), and
        listed in `refused_sorry`."""
        self.prefix_ids, self.records, self.max_seq_len = prefix_ids, records, max_seq_len
        self.block_training, self.block_fill = block_training, block_fill
        self.refused_sorry = [k for k in order if records[k].has_sorry]
        if self.refused_sorry:
            log.warning("%d of %d records are refused: their target holds sorry/admit/sorryAx/stop "
                        "(first: %s)", len(self.refused_sorry), len(records),
                        records[self.refused_sorry[0]].name)
        self.ring = [k for k in order if not records[k].has_sorry]
        self.ring_pos = {k: p for p, k in enumerate(self.ring)}
        # Records whose prompt alone fills max_seq_len teach nothing: leave them out of the order.
        too_long = [k for k in self.ring
                    if len(prefix_ids) + len(records[k].query) >= max_seq_len]
        if too_long:
            log.warning("%d of %d records have a prompt longer than max_seq_len=%d and are skipped "
                        "(first: %s)", len(too_long), len(records), max_seq_len, records[too_long[0]].name)
        skipped = set(too_long)
        self.order = [k for k in self.ring if k not in skipped]

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, k: int) -> dict:
        if k not in self.ring_pos:
            raise IndexError(f"record {k} is refused: its target holds sorry (not in .order)")
        if self.block_training:
            sample = block_example(self.prefix_ids, self.records, self.ring, self.ring_pos[k],
                                   self.max_seq_len, self.block_fill)
        else:
            sample = single_example(self.prefix_ids, self.records[k], self.max_seq_len)
        if sample is None:
            raise IndexError(f"record {k} does not fit in max_seq_len={self.max_seq_len} (not in .order)")
        return sample


class PadCollator:
    """Pads a batch to its longest sample (right padding), labels with -100, and keeps `record_idx`.

    `record_idx` travels with the batch so the trainer can log which records each step saw; the
    trainer removes it before the model's forward."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None):
        self.pad_token_id, self.multiple = pad_token_id, pad_to_multiple_of

    def __call__(self, samples: list[dict]) -> dict:
        width = max(len(s["input_ids"]) for s in samples)
        if self.multiple:
            width = -(-width // self.multiple) * self.multiple
        input_ids = torch.full((len(samples), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(samples), width), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(samples), width), dtype=torch.long)
        for row, s in enumerate(samples):
            n = len(s["input_ids"])
            input_ids[row, :n] = torch.tensor(s["input_ids"], dtype=torch.long)
            labels[row, :n] = torch.tensor(s["labels"], dtype=torch.long)
            attention[row, :n] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention,
                "record_idx": torch.tensor([s["record_idx"] for s in samples], dtype=torch.long)}
