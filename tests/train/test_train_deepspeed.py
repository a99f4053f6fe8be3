"""End-to-end SFT with real DeepSpeed (ZeRO-2, CPU accelerator, gloo) on a tiny random Llama.

Runs the real entry points in subprocesses: `python -m theoremllama.cli train` for one process,
and the `deepspeed` launcher (`--num_nodes 1 --num_accelerators 2`, with LOCAL_SIZE=2 telling
DeepSpeed's CPU accelerator how many "devices" the node has) for two. Nothing is mocked.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STEPS, HALF, BATCH, SEQ = 24, 12, 2, 768
DEEPSPEED = str(Path(sys.executable).parent / "deepspeed")


def _run(cmd: list[str], cwd: Path, env_extra: dict | None = None) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    env.pop("RANK", None), env.pop("WORLD_SIZE", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=420)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout + proc.stderr


def _train(config: Path, cwd: Path) -> str:
    return _run([sys.executable, "-m", "theoremllama.cli", "train", "--config", str(config)], cwd)


def _losses_in(trainer_state: Path) -> dict[int, float]:
    state = json.loads(trainer_state.read_text())
    return {h["step"]: h["loss"] for h in state["log_history"] if "loss" in h}


def _losses(out: Path, step: int) -> dict[int, float]:
    return _losses_in(out / f"checkpoint-{step}" / "trainer_state.json")


def _data_order(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "data_order.jsonl").read_text().splitlines()]


def _expected_order(tokenizer, records_path, *, curriculum: bool, seed: int = 42) -> list[int]:
    """The order the recipe must train in, computed here from the same public pieces."""
    from theoremllama.train.curriculum import training_order
    from theoremllama.train.dataset import SFTDataset
    from theoremllama.train.format import ChatEncoder, load_obt_records

    records = load_obt_records(records_path)
    encoder = ChatEncoder(tokenizer)
    dataset = SFTDataset(encoder.prefix_ids, encoder.encode(records),
                         training_order(records, curriculum=curriculum, seed=seed), SEQ, block_training=True)
    return [records[k].idx for k in dataset.order] * 2  # the same order every epoch


def _falls(losses: dict[int, float], k: int = 5, margin: float = 0.5) -> None:
    values = [losses[s] for s in sorted(losses)]
    first, last = sum(values[:k]) / k, sum(values[-k:]) / k
    assert last < first - margin, f"loss did not fall: first {k} mean {first:.3f}, last {k} mean {last:.3f}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, make_config):
    """One uninterrupted ZeRO-2 run in one process: STEPS steps, checkpoints at HALF and STEPS."""
    tmp = tmp_path_factory.mktemp("ref")
    out = tmp / "out"
    config = make_config(tmp / "ref.yaml", out, max_seq_len=SEQ, **{
        "trainer.max_steps": STEPS, "trainer.save_steps": HALF,
        "trainer.per_device_train_batch_size": BATCH})
    _train(config, tmp)
    return out, config


def test_zero2_one_process_loss_falls(reference):
    out, _ = reference
    losses = _losses(out, STEPS)
    assert sorted(losses) == list(range(1, STEPS + 1))
    _falls(losses)


def test_trainer_sees_curriculum_order(reference, tokenizer, records_path):
    from theoremllama.train.curriculum import difficulty
    from theoremllama.train.format import load_obt_records

    out, _ = reference
    lines = _data_order(out)
    assert [line["step"] for line in lines] == list(range(1, STEPS + 1))
    seen = [idx for line in lines for idx in line["records"]]
    assert seen == _expected_order(tokenizer, records_path, curriculum=True)[:STEPS * BATCH]
    by_idx = {r.idx: r for r in load_obt_records(records_path)}
    keys = [difficulty(by_idx[i]) for i in seen]
    assert keys == sorted(keys)  # easy to hard, never shuffled


def test_run_info_and_hf_checkpoints(reference):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _ = reference
    info = json.loads((out / "run_info.json").read_text())
    assert set(info["versions"]) == {"torch", "transformers", "deepspeed", "theoremllama"}
    assert info["seed"] == 42 and info["config"]["block_training"] is True and info["world_size"] == 1
    assert info["records_refused_sorry"] == 13  # the seed bank's `sorry` placeholders
    half = out / f"checkpoint-{HALF}"
    assert (half / "model.safetensors").is_file() and (half / f"global_step{HALF}").is_dir()
    model = AutoModelForCausalLM.from_pretrained(out / "final")
    tok = AutoTokenizer.from_pretrained(out / "final")
    assert model.config.num_hidden_layers == 2 and tok.chat_template


def test_resume_continues_step_count_and_data_order(reference, tmp_path):
    """Resume from the half-way checkpoint in a fresh output dir: the rest matches the reference."""
    out, config = reference
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(out / f"checkpoint-{HALF}", resumed / f"checkpoint-{HALF}")
    text = config.read_text().replace(str(out), str(resumed))
    (tmp_path / "resume.yaml").write_text(text)
    # as if the first run had been killed two steps after the checkpoint, mid-way through a line
    logged = (out / "data_order.jsonl").read_text().splitlines(keepends=True)
    (resumed / "data_order.jsonl").write_text("".join(logged[:HALF + 2]) + logged[HALF + 2][:10])
    log = _train(tmp_path / "resume.yaml", tmp_path)
    assert "Resuming" in log or "resuming" in log

    # the redone steps replace the lost ones: the log is the uninterrupted run's, line for line
    assert _data_order(resumed) == _data_order(out)
    assert json.loads((resumed / f"checkpoint-{STEPS}" / "trainer_state.json").read_text())["global_step"] == STEPS
    ref, new = _losses(out, STEPS), _losses(resumed, STEPS)
    for step in range(HALF + 1, STEPS + 1):
        assert new[step] == pytest.approx(ref[step], abs=1e-2), step


def test_zero2_two_processes_with_deepspeed_launcher(tmp_path, make_config, tokenizer, records_path):
    """Two ranks via the deepspeed launcher; without curriculum the order is the seeded permutation,
    and rank r takes every other batch of it."""
    out = tmp_path / "out"
    config = make_config(tmp_path / "two.yaml", out, max_seq_len=SEQ, curriculum=False, **{
        "trainer.max_steps": STEPS, "trainer.save_steps": 1000, "trainer.per_device_train_batch_size": BATCH})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _run([DEEPSPEED, "--num_nodes", "1", "--num_accelerators", "2", "--master_port", str(port),
          "--module", "theoremllama.train.launch", "--config", str(config)], tmp_path, {"LOCAL_SIZE": "2"})

    info = json.loads((out / "run_info.json").read_text())
    assert info["world_size"] == 2
    lines = _data_order(out)
    by_step = {(line["step"], line["rank"]): line["records"] for line in lines}
    assert set(by_step) == {(s, r) for s in range(1, STEPS + 1) for r in (0, 1)}
    seen = [idx for s in range(1, STEPS + 1) for r in (0, 1) for idx in by_step[(s, r)]]
    assert seen == _expected_order(tokenizer, records_path, curriculum=False)[:2 * STEPS * BATCH]
    state = json.loads((out / "final" / "config.json").read_text())
    assert state["num_hidden_layers"] == 2
    # the trainer state saved at the end holds the logged loss of every step
    _falls(_losses_in(out / "trainer_state.json"))


@pytest.mark.parametrize("ds_config", ["ds_zero1.json", "ds_zero3.json", "ds_zero3_offload.json"])
def test_other_zero_stages_train_and_save_hf_weights(ds_config, tmp_path, make_config, root):
    """The shipped ZeRO-1/-3/-3-offload configs run (their "auto" values filled by the HF
    integration) and the final model is full HF weights (ZeRO-3 gathers them at save)."""
    from transformers import AutoModelForCausalLM

    out = tmp_path / "out"
    config = make_config(tmp_path / "c.yaml", out, max_seq_len=256, deepspeed=str(root / "train" / ds_config),
                         **{"trainer.max_steps": 3, "trainer.save_steps": 1000})
    _train(config, tmp_path)
    losses = _losses_in(out / "trainer_state.json")
    assert sorted(losses) == [1, 2, 3]
    model = AutoModelForCausalLM.from_pretrained(out / "final")
    assert model.get_input_embeddings().weight.shape[1] == 64


def test_lora_with_gradient_checkpointing_without_deepspeed(tmp_path, make_config):
    out = tmp_path / "out"
    config = make_config(tmp_path / "c.yaml", out, max_seq_len=256, deepspeed=None, gradient_checkpointing=True,
                         lora={"r": 4, "alpha": 8},
                         **{"trainer.max_steps": 3, "trainer.save_steps": 1000})
    _train(config, tmp_path)
    assert sorted(_losses_in(out / "trainer_state.json")) == [1, 2, 3]
    adapter = json.loads((out / "final" / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and "q_proj" in adapter["target_modules"]


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_rerunning_a_finished_run_does_nothing_and_says_so(reference):
    out, config = reference
    before = {p: p.stat().st_mtime_ns for p in (out / "final").iterdir()}
    order = (out / "data_order.jsonl").read_text()
    log = _train(config, config.parent)
    assert "nothing to do" in log and f"step {STEPS}" in log
    assert not (out / f"checkpoint-{STEPS + 1}").exists()  # not one step more
    assert {p: p.stat().st_mtime_ns for p in (out / "final").iterdir()} == before  # final/ untouched
    assert (out / "data_order.jsonl").read_text() == order
    assert json.loads((out / "complete.json").read_text())["global_step"] == STEPS


def test_killed_after_its_last_checkpoint_the_run_finishes_without_training_more(reference, tmp_path):
    """As if killed while writing final/: the last checkpoint has every step, final/ is half there."""
    out, config = reference
    run = tmp_path / "run"
    run.mkdir()
    shutil.copytree(out / f"checkpoint-{STEPS}", run / f"checkpoint-{STEPS}")
    (run / "final").mkdir()
    (run / "final" / "config.json").write_text("{")  # torn
    text = config.read_text().replace(str(out), str(run))
    (tmp_path / "c.yaml").write_text(text)
    _train(tmp_path / "c.yaml", tmp_path)
    assert not (run / f"checkpoint-{STEPS + 1}").exists()
    ref, new = _weights(out / "final"), _weights(run / "final")
    assert ref.keys() == new.keys() and all((ref[k] == new[k]).all() for k in ref)
    assert json.loads((run / "final" / "config.json").read_text())["num_hidden_layers"] == 2
    assert "nothing to do" in _train(tmp_path / "c.yaml", tmp_path)


def test_a_rerun_with_other_settings_is_refused_in_one_line(reference, tmp_path):
    out, config = reference
    proc = subprocess.run([sys.executable, "-m", "theoremllama.cli", "train", "--config", str(config),
                           "--set", "trainer.learning_rate=0.1", "--set", "trainer.logging_steps=5"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "trainer.learning_rate: 0.003 -> 0.1" in err[0] and "output_dir" in err[0]
    assert "logging_steps" not in err[0]  # how often it logs is not part of the run's identity
    assert not (out / f"checkpoint-{STEPS + 1}").exists()
