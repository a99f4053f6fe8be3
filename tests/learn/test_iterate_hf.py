"""Expert iteration with the offline `hf` backend, nothing scripted: a tiny random Llama writes the
proofs (its vocabulary holds whole proofs as single tokens, `support.learning`), the real
`Verifier` checks them with the REPL test double, the real SFT recipe trains on them, and round 1
generates with round 0's checkpoint. The counts are the model's: the test checks every relation
between the recorded attempts, the kept proofs, the SFT data and the models used."""

from __future__ import annotations

import json

import pytest
import yaml

from support.learning import BASE_ROWS, FAKE_REPL, build_proof_vocab_model, problem, write_jsonl
from theoremllama.eval.attempts import read_attempts
from theoremllama.learn.config import load_iterate_config
from theoremllama.learn.iterate import iterate
from theoremllama.train.format import code_key

pytestmark = pytest.mark.slow
SAMPLES, CAP = 6, 2


def test_two_rounds_with_the_hf_backend(tmp_path):
    build_proof_vocab_model(tmp_path / "model")
    # `hard` can never be proved: its header does not import (the double answers with an error)
    rows = [problem("easy1", 1), problem("easy2", 2), dict(problem("hard", 3), header="import MissingModule\n")]
    recipe = {"model": {"name_or_path": str(tmp_path / "model")}, "data": "x", "output_dir": "x",
              "max_seq_len": 512, "block_training": False, "deepspeed": None, "precision": "fp32",
              "trainer": {"max_steps": 2, "per_device_train_batch_size": 2, "learning_rate": 1e-2,
                          "save_steps": 2, "logging_steps": 1, "report_to": "none"}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    cfg = {"problems": str(write_jsonl(tmp_path / "problems.jsonl", rows)),
           "base_data": str(write_jsonl(tmp_path / "base.jsonl", BASE_ROWS)),
           "output_dir": str(tmp_path / "run"), "rounds": 2, "samples": SAMPLES, "max_per_problem": CAP,
           "attempt": "all", "llm": {"backend": "hf", "model": str(tmp_path / "model"), "device": "cpu"},
           "sampling": {"temperature": 1.0, "max_tokens": 1},
           "verifier": {"repl_cmd": FAKE_REPL, "workers": 1, "timeout": 20},
           "train": {"recipe": str(tmp_path / "recipe.yaml")}}
    (tmp_path / "it.yaml").write_text(yaml.safe_dump(cfg))
    result = iterate(load_iterate_config(tmp_path / "it.yaml"), progress=False, log=lambda *_: None)

    out = tmp_path / "run"
    rounds = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1] and result.stages_run == [
        f"{r}/{s}" for r in (0, 1) for s in ("prove", "collect", "train")]
    kept_so_far: list[dict] = []
    for r, row in enumerate(rounds):
        run, attempts = read_attempts(out / f"round-{r}" / "attempts.jsonl")
        # round 0 generates with the base model, round 1 with round 0's checkpoint
        assert run.model == (str(tmp_path / "model") if r == 0 else rounds[0]["checkpoint"])
        counts = {n: sum(k["problem"] == n for k in kept_so_far) for n in ("easy1", "easy2", "hard")}
        asked = sorted(n for n, c in counts.items() if c < CAP)  # `attempt: all` below the cap
        assert sorted({a.problem for a in attempts} - {"hard"}) == [n for n in asked if n != "hard"]
        assert all(sum(a.problem == n for a in attempts) == SAMPLES for n in asked if n != "hard")
        # `hard`'s proofs were never checked (its header does not import): they are not recorded,
        # only its samples without a proof are
        assert all(a.reason == "no_proof" for a in attempts if a.problem == "hard")
        assert len(attempts) == row["attempts"]
        assert row["unchecked"] == SAMPLES - sum(a.problem == "hard" for a in attempts)
        new = [json.loads(line) for line in (out / f"round-{r}" / "proofs.jsonl").read_text().splitlines()]
        passing = {(a.problem, a.sample): a for a in attempts if a.passed}
        for k in new:  # every kept proof is a passing attempt of this round, as written
            assert passing[(k["problem"], k["sample"])].proof == k["proof"] and k["round"] == r
        for name in asked:  # the cap filled with distinct codes, shortest first
            mine = [k for k in new if k["problem"] == name]
            distinct = {code_key(a.proof) for a in passing.values() if a.problem == name} - \
                {k["key"] for k in kept_so_far if k["problem"] == name}
            assert len(mine) == min(CAP - counts[name], len(distinct))
            assert len({k["key"] for k in mine}) == len(mine)
            lengths = [len(k["key"]) for k in mine]
            assert lengths == sorted(lengths)
            if mine:
                assert max(lengths) <= min((len(d) for d in distinct - {k["key"] for k in mine}), default=10**9)
        kept_so_far += new
        assert row["new_proofs"] == len(new) and row["total_proofs"] == len(kept_so_far)
        sft = [json.loads(line) for line in (out / f"round-{r}" / "sft_data.jsonl").read_text().splitlines()]
        assert [s["Name"] for s in sft] == ["base_add_zero", "base_mul_one"] + [k["problem"] for k in kept_so_far]
        assert row["sft_rows"] == len(sft)
    assert rounds[0]["new_proofs"] > 0, "the tiny model proved nothing in round 0 (change its seed)"
    recipe1 = yaml.safe_load((out / "round-1" / "recipe.yaml").read_text())
    assert recipe1["model"]["name_or_path"] == rounds[0]["checkpoint"]  # init: previous
    assert (out / "round-1" / "train" / "final" / "model.safetensors").is_file()
