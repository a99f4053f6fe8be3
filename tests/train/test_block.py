"""Block-training samples: layout, loss mask, sequence filling, and no leakage of the target."""

import dataclasses

import pytest

from theoremllama.data.records import OBTRecord
from theoremllama.train.block import block_example
from theoremllama.train.curriculum import curriculum_order
from theoremllama.train.format import IGNORE_INDEX, ChatEncoder, load_obt_records, single_example

MAX = 1024


@pytest.fixture(scope="module")
def records(records_path):
    return load_obt_records(records_path)


@pytest.fixture(scope="module")
def encoder(tokenizer):
    return ChatEncoder(tokenizer)


@pytest.fixture(scope="module")
def encoded(encoder, records):
    return encoder.encode(records)


def _split(sample):
    """(context ids, answer ids) of a sample: the label mask is the boundary."""
    labels = sample["labels"]
    first = next(k for k, t in enumerate(labels) if t != IGNORE_INDEX)
    assert all(t == IGNORE_INDEX for t in labels[:first])
    assert labels[first:] == sample["input_ids"][first:]
    return sample["input_ids"][:first], sample["input_ids"][first:]


def test_pieces_match_the_chat_template(tokenizer, encoder, encoded, records):
    """prefix + query + answer is exactly what apply_chat_template renders for the conversation."""
    from theoremllama.train.format import record_answer, record_instruction
    from theoremllama.train.prompt import build_conversation

    for k in (0, 7):
        msgs = build_conversation([(record_instruction(records[k - 1]), record_answer(records[k - 1]))],
                                  record_instruction(records[k]))
        msgs.append({"role": "assistant", "content": record_answer(records[k])})
        rendered = tokenizer.apply_chat_template(msgs, tokenize=False)
        pieces = (encoder.prefix_ids + encoded[k - 1].query_ids + encoded[k - 1].answer_ids
                  + encoded[k].query_ids + encoded[k].answer_ids)
        assert tokenizer.decode(pieces) == rendered


def test_single_example_masks_all_but_the_answer(encoder, encoded):
    sample = single_example(encoder.prefix_ids, encoded[3], MAX)
    context, answer = _split(sample)
    assert answer == encoded[3].answer_ids
    assert context == encoder.prefix_ids + encoded[3].query_ids


def test_block_sample_layout_and_no_leakage(tokenizer, encoder, encoded, records):
    order = curriculum_order(records)
    fits = [p for p, k in enumerate(order)  # targets leaving room for at least one example
            if len(encoder.prefix_ids) + len(encoded[k].query_ids) + len(encoded[k].answer_ids) < MAX - 300]
    assert len(fits) > 80
    for pos in (fits[0], fits[1], fits[40], fits[-1], len(order) - 1):
        target = encoded[order[pos]]
        sample = block_example(encoder.prefix_ids, encoded, order, pos, MAX, fill="exact")
        context, answer = _split(sample)
        # loss on exactly the target's answer
        assert answer == target.answer_ids
        assert sample["record_idx"] == target.idx
        # the sequence is full, starts with the system turn and ends the context with i's query
        assert len(sample["input_ids"]) == MAX
        assert context[:len(encoder.prefix_ids)] == encoder.prefix_ids
        assert context[-len(target.query_ids):] == target.query_ids
        # worked examples are the records just before in the ring (nearest last), i never among them
        used = sample["context_records"]
        assert used and target.idx not in used
        expected = [encoded[order[(pos - s) % len(order)]].idx for s in range(1, len(used) + 1)]
        assert used == expected[::-1]
        # no leakage: the target's proof text does not occur in its context
        ctx_text = tokenizer.decode(context)
        proof = records[order[pos]].Commented_proof.strip()
        assert proof not in ctx_text
        assert records[order[pos]].Proof.strip() not in ctx_text
        # layout: system turn, the end of the farthest example, whole examples, i's query
        by_idx = {e.idx: e for e in encoded}
        whole = [t for idx in used[1:] for t in by_idx[idx].query_ids + by_idx[idx].answer_ids]
        farthest = by_idx[used[0]].query_ids + by_idx[used[0]].answer_ids
        cut = len(context) - len(encoder.prefix_ids) - len(whole) - len(target.query_ids)
        assert 0 < cut <= len(farthest)
        assert context == (encoder.prefix_ids + farthest[len(farthest) - cut:] + whole
                           + target.query_ids)


def test_ring_wraps_but_never_onto_the_target(encoder, encoded):
    """With few records and a long sequence, every other record is used once and i never."""
    few = encoded[:4]
    ring = [2, 0, 3, 1]
    sample = block_example(encoder.prefix_ids, few, ring, 1, 100_000, fill="exact")
    # target is few[0]; walking back from ring position 1: ring[0]=2, then wraps to ring[3]=1, ring[2]=3
    assert sample["context_records"] == [few[3].idx, few[1].idx, few[2].idx]
    context, answer = _split(sample)
    assert answer == few[0].answer_ids
    assert len(sample["input_ids"]) < 100_000  # nothing left to fill with


def test_whole_fill_uses_whole_examples_only(encoder, encoded, records):
    order = curriculum_order(records)
    sample = block_example(encoder.prefix_ids, encoded, order, 30, MAX, fill="whole")
    context, _ = _split(sample)
    assert len(sample["input_ids"]) <= MAX
    body = encoder.prefix_ids
    for idx in sample["context_records"]:
        body = body + encoded[idx].query_ids + encoded[idx].answer_ids
    assert context == body + encoded[order[30]].query_ids


def test_duplicates_of_the_answer_are_skipped(tokenizer):
    """A copy of the target (other name, other comments, same proof code) never enters its context."""
    encoder = ChatEncoder(tokenizer)
    base = OBTRecord(idx=0, Name="t_add", Statement="theorem t_add : 1 + 1 = 2 :=",
                     Proof="theorem t_add : 1 + 1 = 2 := by\n  norm_num",
                     Generated_informal_statement_and_proof="1 + 1 = 2 by computation.",
                     Commented_proof="theorem t_add : 1 + 1 = 2 := by\n  -- compute\n  norm_num")
    recs = [base,
            dataclasses.replace(base, idx=1, Commented_proof=base.Proof.replace("  norm_num", "  -- calc\n  norm_num")),
            dataclasses.replace(base, idx=2),
            OBTRecord(idx=3, Name="t_mul", Statement="theorem t_mul : 2 * 3 = 6 :=",
                      Proof="theorem t_mul : 2 * 3 = 6 := by\n  norm_num",
                      Generated_informal_statement_and_proof="2 * 3 = 6.")]
    enc = encoder.encode(recs)
    sample = block_example(encoder.prefix_ids, enc, [3, 1, 2, 0], 3, 100_000)
    assert sample["context_records"] == [3]
    context, _ = _split(sample)
    assert "-- compute" not in tokenizer.decode(context) and "-- calc" not in tokenizer.decode(context)


def test_deterministic(encoder, encoded, records):
    order = curriculum_order(records)
    a = block_example(encoder.prefix_ids, encoded, order, 11, MAX)
    b = block_example(encoder.prefix_ids, encoded, list(order), 11, MAX)
    assert a == b


def test_target_longer_than_the_sequence(encoder, encoded):
    """The answer is cut at max_seq_len; a prompt alone too long gives no sample at all."""
    k = max(range(len(encoded)), key=lambda j: len(encoded[j].answer_ids))
    prompt = len(encoder.prefix_ids) + len(encoded[k].query_ids)
    sample = block_example(encoder.prefix_ids, encoded, list(range(len(encoded))), k, prompt + 5)
    assert len(sample["input_ids"]) == prompt + 5 and sample["context_records"] == []
    assert sample["labels"][-5:] == encoded[k].answer_ids[:5]
    assert block_example(encoder.prefix_ids, encoded, list(range(len(encoded))), k, prompt) is None


def prompt_ids(encoder, examples: list[tuple[str, str]], instruction: str) -> list[int]:
    """Token ids of a prompt built like a training sequence: prefix, then each turn's pieces."""
    ids = list(encoder.prefix_ids)
    for ex_instruction, ex_answer in examples:
        q, a = encoder.split_turns(ex_instruction, ex_answer)
        ids += encoder.tokenizer([q + a], add_special_tokens=False)["input_ids"][0]
    q, _ = encoder.split_turns(instruction, "")
    return ids + encoder.tokenizer([q], add_special_tokens=False)["input_ids"][0]


def test_prompt_ids_are_what_evaluation_renders(tokenizer, encoder, records):
    """A prompt built from pieces = the chat template applied to build_conversation(...)."""
    from theoremllama.train.format import record_answer, record_instruction
    from theoremllama.train.prompt import build_conversation

    examples = [(record_instruction(r), record_answer(r)) for r in records[:2]]
    instruction = record_instruction(records[2])
    rendered = tokenizer.apply_chat_template(build_conversation(examples, instruction), tokenize=False,
                                             add_generation_prompt=True)
    assert prompt_ids(encoder, examples, instruction) == tokenizer(rendered, add_special_tokens=False)["input_ids"]
