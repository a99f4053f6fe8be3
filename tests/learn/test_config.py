"""The shipped recipes load and check; wrong keys are one line naming the key."""

from __future__ import annotations

import pytest

from support.learning import ROOT
from theoremllama.errors import UserError
from theoremllama.learn.config import load_iterate_config, load_rl_config


def test_shipped_recipes_load(monkeypatch):
    monkeypatch.chdir(ROOT)
    it = load_iterate_config("train/expert_iteration.yaml")
    assert it.train.recipe == "train/sft.yaml" and it.train.init == "previous" and it.max_per_problem == 4
    rl = load_rl_config("train/grpo.yaml")
    assert rl.grpo["num_generations"] == 8 and rl.format_reward == 0.0 and rl.grpo["learning_rate"] == 1e-6


@pytest.mark.parametrize("override, message", [
    ("rounds=0", "config key 'rounds': must be an integer >= 1"),
    ("attempt=some", "config key 'attempt': must be one of unsolved, all"),
    ("train.init=latest", "config key 'train.init'"),
    ("train.recipes=x", "unknown config key 'train.recipes'"),
    ("samples=many", "config key 'samples': expected an integer, got 'many'"),
    ("llm.backend=magic", "config key 'llm.backend'"),
])
def test_bad_iterate_keys(monkeypatch, override, message):
    monkeypatch.chdir(ROOT)
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        load_iterate_config("train/expert_iteration.yaml", [override])


@pytest.mark.parametrize("override, message", [
    ("grpo.output_dir=x", "config key 'grpo.output_dir' is set by the recipe"),
    ("format_reward=-1", "config key 'format_reward'"),
    ("vllm=maybe", "config key 'vllm'"),
    ("lora.rank=8", "unknown config key 'lora.rank'"),
])
def test_bad_rl_keys(monkeypatch, override, message):
    monkeypatch.chdir(ROOT)
    with pytest.raises(UserError, match=message):
        load_rl_config("train/grpo.yaml", [override])
