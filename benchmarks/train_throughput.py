"""Training throughput: block training vs one example per padded sequence.

CPU (default): the tiny random Llama of train/tiny_cpu.yaml, a BPE tokenizer trained in-process,
the shipped OBT-like records in curriculum order. For each layout it runs forward + backward +
AdamW step on real batches and prints

    tokens/s          real (non-padding) tokens processed per second
    target tokens/s   tokens that carry a loss (the answers being learnt) per second
    padding           fraction of the batch's positions that are padding

for block training (sequences filled to --seq-len) and for one example per sequence, padded to
the longest in its batch (what the recipe's collator does) or to --seq-len (the naive layout).

GPU (--gpu): a ~1.1B Llama (TinyLlama shape) from a config, bf16, DeepSpeed ZeRO-2
(train/ds_zero2.json), block-training batches; prints tokens/s and
MFU = 6 * N * tokens/s / peak FLOP/s (N = parameters; --peak-tflops, default 989 for an H100
SXM's dense bf16). Run it on a GPU machine with:

    python benchmarks/train_throughput.py --gpu --seq-len 4096 --batch 4 --steps 20
    # several GPUs: deepspeed --num_gpus 8 benchmarks/train_throughput.py --gpu ...
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "data" / "theoremllama_eval" / "MiniF2F_valid_partial_withProof_commented.json"

TINY = dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
            tie_word_embeddings=True)
ONE_B = dict(model_type="llama", hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
             num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=4096,
             tie_word_embeddings=False)


def build_data(seq_len: int, vocab: int, tokenizer_dir: Path, block: bool, block_fill: str = "exact"):
    from theoremllama.train.curriculum import curriculum_order
    from theoremllama.train.dataset import SFTDataset
    from theoremllama.train.format import ChatEncoder, load_obt_records
    from theoremllama.train.smoke_tokenizer import build_tiny_tokenizer, texts_of

    if not (tokenizer_dir / "tokenizer.json").exists():
        build_tiny_tokenizer(texts_of(RECORDS), tokenizer_dir, vocab_size=vocab)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    records = load_obt_records(RECORDS)
    encoder = ChatEncoder(tok)
    ds = SFTDataset(encoder.prefix_ids, encoder.encode(records), curriculum_order(records), seq_len,
                    block_training=block, block_fill=block_fill)
    return tok, ds


def batches(ds, batch_size: int, pad_id: int, pad_to: int | None):
    from theoremllama.train.dataset import PadCollator

    collate = PadCollator(pad_id)
    order = ds.order
    for start in range(0, len(order) - batch_size + 1, batch_size):
        b = collate([ds[k] for k in order[start:start + batch_size]])
        if pad_to and b["input_ids"].shape[1] < pad_to:
            extra = pad_to - b["input_ids"].shape[1]
            b["input_ids"] = torch.nn.functional.pad(b["input_ids"], (0, extra), value=pad_id)
            b["labels"] = torch.nn.functional.pad(b["labels"], (0, extra), value=-100)
            b["attention_mask"] = torch.nn.functional.pad(b["attention_mask"], (0, extra), value=0)
        b.pop("record_idx")
        yield b


def measure(model, optimizer, batch_iter, steps: int, device: str, step_fn=None) -> dict:
    """Run `steps` training steps (after one warm-up step); count real, target and padded tokens."""
    real = target = total = 0
    elapsed = 0.0
    for i, b in enumerate(batch_iter):
        if i > steps:
            break
        b = {k: v.to(device) for k, v in b.items()}
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        if step_fn is not None:
            step_fn(b)
        else:
            loss = model(**b).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i == 0:
            continue  # warm-up
        elapsed += time.perf_counter() - t0
        real += int(b["attention_mask"].sum())
        target += int((b["labels"] != -100).sum())  # the first label is shifted away: close enough
        total += b["input_ids"].numel()
    return {"steps": min(steps, i), "seconds": elapsed, "tokens_per_s": real / elapsed,
            "target_tokens_per_s": target / elapsed, "padding": 1 - real / total,
            "target_fraction": target / total}


def cpu_benchmark(args) -> list[dict]:
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        layouts = [("block training (exact fill)", True, "exact", None),
                   ("block training (whole examples)", True, "whole", None),
                   ("one example, pad to longest", False, "exact", None),
                   ("one example, pad to seq-len", False, "exact", args.seq_len)]
        for name, block, fill, pad_to in layouts:
            tok, ds = build_data(args.seq_len, args.vocab, Path(tmp) / "tok", block, fill)
            spec = dict(TINY)
            config = AutoConfig.for_model(spec.pop("model_type"), vocab_size=len(tok), **spec)
            model = AutoModelForCausalLM.from_config(config)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
            r = measure(model, optimizer, batches(ds, args.batch, tok.pad_token_id, pad_to), args.steps, "cpu")
            r["layout"] = name
            results.append(r)
    return results


def gpu_benchmark(args) -> dict:
    """~1.1B Llama, bf16, DeepSpeed ZeRO-2: tokens/s and MFU. Needs a CUDA GPU."""
    import deepspeed
    from transformers import AutoConfig, AutoModelForCausalLM

    from theoremllama.train.recipe import ensure_distributed_env

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.allow_cpu:
        raise SystemExit("--gpu needs a CUDA GPU (add --allow-cpu --tiny to check the code path on CPU)")
    ensure_distributed_env()
    spec = dict(TINY if args.tiny else ONE_B)
    with tempfile.TemporaryDirectory() as tmp:
        tok, ds = build_data(args.seq_len, args.vocab, Path(tmp) / "tok", True)
        config = AutoConfig.for_model(spec.pop("model_type"), vocab_size=len(tok), **spec)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
        if args.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        n_params = sum(p.numel() for p in model.parameters())
        ds_config = json.loads((ROOT / "train" / "ds_zero2.json").read_text())
        ds_config.update(train_micro_batch_size_per_gpu=args.batch, gradient_accumulation_steps=1,
                         gradient_clipping=1.0, bf16={"enabled": device == "cuda"}, fp16={"enabled": False})
        ds_config.pop("train_batch_size")
        ds_config["optimizer"]["params"] = {"lr": 1e-5, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.0,
                                            **({"torch_adam": True} if device == "cpu" else {})}
        engine, *_ = deepspeed.initialize(model=model, model_parameters=model.parameters(), config=ds_config)

        def step(b):
            loss = engine(**b).loss
            engine.backward(loss)
            engine.step()

        world = torch.distributed.get_world_size()
        r = measure(engine, None, batches(ds, args.batch, tok.pad_token_id, None), args.steps, device, step)
    r["tokens_per_s_all_ranks"] = r["tokens_per_s"] * world
    r["parameters"] = n_params
    r["mfu"] = 6 * n_params * r["tokens_per_s"] / (args.peak_tflops * 1e12)
    r["device"] = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    torch.distributed.destroy_process_group()
    return r


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=10, help="timed steps (after one warm-up step)")
    p.add_argument("--vocab", type=int, default=1024, help="size of the BPE trained on the records")
    p.add_argument("--gpu", action="store_true", help="~1.1B Llama with DeepSpeed ZeRO-2: tokens/s and MFU")
    p.add_argument("--peak-tflops", type=float, default=989.0, help="the GPU's dense bf16 peak (H100 SXM: 989)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--tiny", action="store_true", help="with --gpu: the tiny model (a code-path check)")
    p.add_argument("--allow-cpu", action="store_true", help="with --gpu: run even without CUDA")
    p.add_argument("--local_rank", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.gpu:
        r = gpu_benchmark(args)
        print(f"{r['device']}: {r['parameters'] / 1e9:.2f}B params, seq {args.seq_len}, micro-batch {args.batch}: "
              f"{r['tokens_per_s']:,.0f} tokens/s per GPU ({r['tokens_per_s_all_ranks']:,.0f} all GPUs), "
              f"padding {r['padding']:.1%}, MFU {r['mfu']:.1%} (peak {args.peak_tflops:g} TFLOP/s)")
        return
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"CPU, tiny Llama ({TINY['hidden_size']} hidden, {TINY['num_hidden_layers']} layers), "
          f"seq-len {args.seq_len}, batch {args.batch}, {args.steps} timed steps, {torch.get_num_threads()} threads")
    print(f"{'layout':34s} {'tokens/s':>10s} {'target tok/s':>13s} {'padding':>8s} {'target share':>13s}")
    for r in cpu_benchmark(args):
        print(f"{r['layout']:34s} {r['tokens_per_s']:10,.0f} {r['target_tokens_per_s']:13,.0f} "
              f"{r['padding']:8.1%} {r['target_fraction']:13.1%}")
    print("GPU figure (tokens/s, MFU for a ~1.1B Llama, ZeRO-2): python benchmarks/train_throughput.py --gpu "
          "--seq-len 4096 --batch 4 --steps 20")


if __name__ == "__main__":
    main()
