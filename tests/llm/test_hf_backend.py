"""HFGenerator with a tiny randomly initialised Llama and a tokenizer trained in-process
(no hub access): batching with left padding, chat templates, stop strings, seeds."""

from theoremllama.llm import Sampling
from theoremllama.llm.factory import make_generator


def test_batched_left_padding_matches_one_by_one(tiny_model_dir):
    gen = make_generator({"backend": "hf", "model": tiny_model_dir, "device": "cpu", "batch_size": 8})
    prompts = ["theorem foo", "example : 2 + 2 = 4 := by norm_num and the proof uses induction on n", "we"]
    greedy = Sampling(n=1, temperature=0, max_tokens=6)
    batched = gen.generate(prompts, greedy)
    single = [gen.generate([p], greedy)[0] for p in prompts]
    assert batched == single
    assert all(len(o) == 1 and isinstance(o[0], str) for o in batched)
    assert gen.usage.requests == 6 and gen.usage.completion_tokens > 0


def test_n_samples_seed_and_chat_template(tiny_model_dir):
    gen = make_generator({"backend": "hf", "model": tiny_model_dir, "device": "cpu", "batch_size": 4})
    chat = [{"role": "user", "content": "prove foo"}]
    text, templated = gen.render(chat)
    assert templated and text == "<|user|>prove foo\n<|assistant|>"
    sampling = Sampling(n=3, temperature=1.0, max_tokens=5, seed=123)
    a = gen.generate([chat, "theorem"], sampling)
    b = gen.generate([chat, "theorem"], sampling)
    assert a == b and [len(x) for x in a] == [3, 3]


def test_stop_strings_truncate(tiny_model_dir):
    gen = make_generator({"backend": "hf", "model": tiny_model_dir, "device": "cpu"})
    greedy = Sampling(n=1, temperature=0, max_tokens=12)
    full = gen.generate(["theorem foo"], greedy)[0][0]
    assert len(full) > 2
    stop = full[1:3]
    cut = gen.generate(["theorem foo"], Sampling(n=1, temperature=0, max_tokens=12, stop=[stop]))[0][0]
    assert cut == full[:full.find(stop)]
    assert stop not in cut
