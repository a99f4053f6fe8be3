"""Recipe configs: shipped configs load, overrides apply, bad keys are named in one-line errors."""

import json

import pytest
import yaml

from theoremllama.cli import main
from theoremllama.errors import UserError
from theoremllama.train.config import load_config


@pytest.mark.parametrize("name", ["sft.yaml", "tiny_cpu.yaml"])
def test_shipped_configs_load(name, monkeypatch, root):
    monkeypatch.chdir(root)
    cfg = load_config(root / "train" / name)
    assert cfg.block_training and cfg.curriculum
    assert (root / cfg.deepspeed).is_file()


def test_overrides(tmp_path, make_config):
    path = make_config(tmp_path / "c.yaml", tmp_path / "out")
    cfg = load_config(path, ["block_training=false", "trainer.learning_rate=1e-5", "model.from_config.hidden_size=32",
                             "lora.r=4"])
    assert cfg.block_training is False
    assert cfg.trainer["learning_rate"] == 1e-5 and isinstance(cfg.trainer["learning_rate"], float)
    assert cfg.model.from_config["hidden_size"] == 32
    assert cfg.lora.r == 4 and cfg.lora.alpha == 32


@pytest.mark.parametrize("overrides, key", [
    (["blok_training=true"], "blok_training"),
    (["block_training=maybe"], "block_training"),
    (["max_seq_len=abc"], "max_seq_len"),
    (["trainer.learnin_rate=0.1"], "trainer.learnin_rate"),
    (["trainer.output_dir=/x"], "trainer.output_dir"),
    (["trainer.learning_rate=fast"], "trainer.learning_rate"),
    (["model.name_or_path=foo"], "model"),
    (["block_fill=half"], "block_fill"),
    (["deepspeed=nowhere.json"], "deepspeed"),
    (["lora.rank=8"], "lora.rank"),
])
def test_bad_config_names_the_key(tmp_path, make_config, overrides, key):
    path = make_config(tmp_path / "c.yaml", tmp_path / "out")
    with pytest.raises(UserError, match=f"'{key}"):
        load_config(path, overrides)


def test_cli_prints_one_line_and_exits_2(tmp_path, make_config, capsys):
    path = make_config(tmp_path / "c.yaml", tmp_path / "out")
    raw = yaml.safe_load(path.read_text())
    raw["curriculum"] = "yes"
    path.write_text(yaml.safe_dump(raw))
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'curriculum'" in err
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err


def test_bad_data_file_names_file_line_and_field(tmp_path):
    from theoremllama.errors import InputError
    from theoremllama.train.format import load_obt_records

    bad = tmp_path / "obt.jsonl"
    bad.write_text('{"Name": "a", "Statement": "s :=", "Proof": "p"}\n\n{"Name": "b", "Statement": 3, "Proof": "p"}\n')
    with pytest.raises(InputError) as e:
        load_obt_records(bad)
    assert (e.value.path, e.value.line, e.value.field) == (str(bad), 3, "Statement")
    bad.write_text('{"Name": "a", "Statement": "s :=", "Proof": "p"}\n{oops\n')
    with pytest.raises(InputError) as e:
        load_obt_records(bad)
    assert e.value.line == 2


def test_records_from_every_format_agree(tmp_path, records_path):
    """The shipped JSON array, the same rows as OBT JSONL, and as a saved HF dataset dir load alike."""
    import datasets

    from theoremllama.train.format import load_obt_records

    array = load_obt_records(records_path)
    assert len(array) == 106 and array[5].idx == 5
    assert array[0].Generated_informal_statement_and_proof.startswith("Expand the following expression")
    rows = [r.to_dict() for r in array[:5]]
    jsonl = tmp_path / "obt.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "obt_hf"))
    assert load_obt_records(jsonl) == array[:5] == load_obt_records(tmp_path / "obt_hf")


def test_bad_row_in_a_json_array_names_its_line(tmp_path):
    from theoremllama.errors import InputError
    from theoremllama.train.format import load_obt_records

    bad = tmp_path / "obt.json"
    bad.write_text('[\n  {"Name": "a", "Statement": "s :=", "Proof": "p"},\n  {"Name": "b", "Proof": "p"}\n]\n')
    with pytest.raises(InputError) as e:
        load_obt_records(bad)
    assert (e.value.line, e.value.field) == (3, "Statement")


def test_cli_reports_bad_training_data_in_one_line(tmp_path, make_config, capsys):
    """A bad record stops `theoremllama train` with file:line: field, before DeepSpeed starts."""
    data = tmp_path / "obt.jsonl"
    data.write_text('{"Name": "a", "Statement": "theorem a : True :=", "Proof": "theorem a : True := trivial"}\n'
                    '{"Name": "b", "Statement": ["oops"], "Proof": "p"}\n')
    path = make_config(tmp_path / "c.yaml", tmp_path / "out", data=str(data))
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{data}:2: field 'Statement'" in err
    assert not (tmp_path / "out").exists()


def _warmup_steps(cfg, total: int) -> int:
    """The warmup the HF Trainer's scheduler gets: transformers' own `get_warmup_steps` on the
    values the recipe passes (not on a TrainingArguments object: building one in this process
    starts a process group that later training subprocesses would collide with)."""
    from types import SimpleNamespace

    from transformers import TrainingArguments

    from theoremllama.train.recipe import trainer_kwargs

    kwargs = trainer_kwargs(cfg)
    defaults = {f.name: f.default for f in __import__("dataclasses").fields(TrainingArguments)}
    values = {k: kwargs.get(k, defaults.get(k)) for k in ("warmup_steps", "warmup_ratio") if k in defaults}
    return TrainingArguments.get_warmup_steps(SimpleNamespace(**values), total)


@pytest.mark.parametrize("trainer, total, expected", [
    ({"warmup_ratio": 0.03}, 1000, 30),   # the shipped sft.yaml: 3 % of all steps
    ({"warmup_ratio": 0.03}, 50, 2),      # rounded up, never 0 when a ratio is asked for
    ({"warmup_steps": 7}, 1000, 7),
    ({}, 1000, 0),
])
def test_warmup_gives_the_intended_number_of_steps(tmp_path, make_config, trainer, total, expected):
    path = make_config(tmp_path / "c.yaml", tmp_path / "out", deepspeed=None)
    raw = yaml.safe_load(path.read_text())
    raw["trainer"] = {k: v for k, v in raw["trainer"].items() if not k.startswith("warmup")} | trainer
    path.write_text(yaml.safe_dump(raw))
    assert _warmup_steps(load_config(path), total) == expected


def test_shipped_sft_recipe_warms_up_over_3_percent_of_the_steps(root, monkeypatch):
    monkeypatch.chdir(root)
    cfg = load_config(root / "train" / "sft.yaml", ["deepspeed=null"])
    assert _warmup_steps(cfg, 2000) == 60


@pytest.mark.parametrize("trainer, message", [
    ({"warmup_steps": 0.03}, "whole number of steps"),  # a ratio on transformers 5, 0 steps on 4.x
    ({"warmup_ratio": 3}, "warmup_ratio': expected a number in"),
    ({"warmup_ratio": 0.1, "warmup_steps": 10}, "give one of them"),
])
def test_ambiguous_warmup_is_refused(tmp_path, make_config, trainer, message):
    path = make_config(tmp_path / "c.yaml", tmp_path / "out")
    with pytest.raises(UserError, match=message):
        load_config(path, [f"trainer.{k}={v}" for k, v in trainer.items()])


def test_the_real_training_arguments_get_the_ratio(root):
    """The same through a real TrainingArguments, built in its own process (see `_warmup_steps`)."""
    import os
    import subprocess
    import sys

    code = ("from theoremllama.train.config import load_config\n"
            "from theoremllama.train.recipe import training_arguments\n"
            "cfg = load_config('train/sft.yaml', ['deepspeed=null', 'output_dir=/tmp/unused'])\n"
            "print(training_arguments(cfg, 'fp32').get_warmup_steps(2000))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "60"
