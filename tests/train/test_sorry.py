"""No `sorry` reaches training: a record whose target holds one is refused by the dataset,
whatever the config says, as a target and as a worked example.

The shipped seed bank, which the CPU smoke recipe (`train/tiny_cpu.yaml`) trains on, holds 13
`sorry` placeholders with no commented proof; the target falls back to `Proof`, so before the
refusal every one whose prompt fits the recipe's `max_seq_len` was a training target (the smoke
run's 40 steps reached 10 of them)."""

from pathlib import Path

from theoremllama.train.config import load_config
from theoremllama.train.curriculum import training_order
from theoremllama.train.dataset import SFTDataset
from theoremllama.train.format import IGNORE_INDEX, ChatEncoder, load_obt_records

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / "train" / "tiny_cpu.yaml"


def test_smoke_recipe_trains_on_no_sorry(tokenizer):
    cfg = load_config(TINY_CONFIG)
    records = load_obt_records(ROOT / cfg.data)
    encoder = ChatEncoder(tokenizer)
    encoded = encoder.encode(records)
    order = training_order(records, curriculum=cfg.curriculum, seed=cfg.seed)
    dataset = SFTDataset(encoder.prefix_ids, encoded, order, cfg.max_seq_len,
                         block_training=cfg.block_training, block_fill=cfg.block_fill)

    placeholders = {k for k, r in enumerate(records) if "sorry" in r.Proof and not r.Commented_proof}
    assert len(placeholders) == 13 and set(dataset.refused_sorry) == placeholders
    # without the refusal these would be trained on: their prompt fits the sequence (10 or 11,
    # depending on the tokenizer; the smoke run's 80 samples reached 10)
    fits = [k for k in placeholders if len(encoder.prefix_ids) + len(encoded[k].query) < cfg.max_seq_len]
    assert len(fits) >= 10
    assert not placeholders & set(dataset.order) and not placeholders & set(dataset.ring)
    refused_idx = {records[k].idx for k in placeholders}
    for k in dataset.order:
        sample = dataset[k]
        target = tokenizer.decode([t for t in sample["labels"] if t != IGNORE_INDEX])
        assert "sorry" not in target
        assert not refused_idx & set(sample["context_records"])  # never a worked example either
        assert "sorry" not in tokenizer.decode(sample["input_ids"])
    assert len(dataset.order) + len(dataset.refused_sorry) <= len(records)


def test_refusal_does_not_depend_on_block_training(tokenizer, records_path):
    records = load_obt_records(records_path)
    encoder = ChatEncoder(tokenizer)
    dataset = SFTDataset(encoder.prefix_ids, encoder.encode(records), list(range(len(records))), 4096,
                         block_training=False)
    assert len(dataset.refused_sorry) == 13 and len(dataset.order) == len(records) - 13
    k = dataset.refused_sorry[0]
    try:
        dataset[k]
    except IndexError as e:
        assert "sorry" in str(e)
    else:
        raise AssertionError("a refused record was served")
