"""No loss on padding: the collator's labels cover the target record's answer and nothing else.

Llama 3 has no pad token, so the recipe pads with EOS (`load_tokenizer`); a collator that copied
input ids into the labels, or labelled the EOS fill, would train the model to emit EOS runs and
dilute the loss. These tests fail if padding or EOS-fill reaches the labels."""

import pytest
import torch

from theoremllama.train.curriculum import training_order
from theoremllama.train.dataset import PadCollator, SFTDataset
from theoremllama.train.format import IGNORE_INDEX, ChatEncoder, load_obt_records


@pytest.fixture(scope="module")
def parts(tokenizer, records_path):
    records = load_obt_records(records_path)[:12]
    encoder = ChatEncoder(tokenizer)
    encoded = encoder.encode(records)
    order = training_order(records, curriculum=True, seed=0)
    return encoder, encoded, order


@pytest.mark.parametrize("block_training", [False, True])
def test_labels_are_exactly_each_answer_and_padding_is_never_labelled(tokenizer, parts, block_training):
    encoder, encoded, order = parts
    eos = tokenizer.convert_tokens_to_ids(tokenizer.eos_token) if tokenizer.eos_token else 0
    dataset = SFTDataset(encoder.prefix_ids, encoded, order, 2048 if not block_training else 700,
                         block_training=block_training, block_fill="whole")
    samples = [dataset[k] for k in dataset.order[:6]]
    batch = PadCollator(eos, pad_to_multiple_of=64)(samples)  # pad = EOS, as for Llama 3
    assert len({len(s["input_ids"]) for s in samples}) > 1  # rows of different lengths: padding exists
    by_idx = {r.idx: r for r in encoded}
    for row, s in enumerate(samples):
        n = len(s["input_ids"])
        labels, mask = batch["labels"][row], batch["attention_mask"][row]
        assert (batch["input_ids"][row, n:] == eos).all() and (mask[n:] == 0).all()
        assert (labels[n:] == IGNORE_INDEX).all(), "padding is labelled"
        labelled = labels[labels != IGNORE_INDEX].tolist()
        assert labelled == by_idx[int(batch["record_idx"][row])].answer_ids  # the answer, nothing else
        # the labelled tokens sit at the end of the real tokens, where the answer is
        assert (labels[n - len(labelled):n] != IGNORE_INDEX).all()


def test_padding_does_not_change_the_loss(tokenizer, parts):
    """The model's loss on a sample is the same alone and padded with 100+ EOS tokens."""
    from transformers import AutoConfig, AutoModelForCausalLM

    encoder, encoded, order = parts
    torch.manual_seed(0)
    config = AutoConfig.for_model("llama", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                  num_attention_heads=2, num_key_value_heads=1, vocab_size=len(tokenizer),
                                  max_position_embeddings=2048)
    model = AutoModelForCausalLM.from_config(config).eval()
    dataset = SFTDataset(encoder.prefix_ids, encoded, order, 2048, block_training=False)
    sample = dataset[dataset.order[0]]
    eos = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
    alone = PadCollator(eos)([sample])
    padded = PadCollator(eos, pad_to_multiple_of=len(sample["input_ids"]) + 128)([sample])
    assert padded["input_ids"].shape[1] >= alone["input_ids"].shape[1] + 100
    with torch.no_grad():
        losses = [model(**{k: v for k, v in b.items() if k != "record_idx"}).loss.item() for b in (alone, padded)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
