"""Prover fine-tuning: SFT with DeepSpeed, block training and curriculum sorting.

Modules (read in this order):
  prompt.py      the prompt format shared with evaluation (pure Python)
  format.py      OBT record -> SFT example (chat template, loss on the answer only)
  block.py       block training: preceding records as worked examples in the context
  curriculum.py  easy-to-hard ordering and the in-order sampler
  dataset.py     the training dataset (built on demand) and batch padding
  config.py      the YAML recipe config, checked
  recipe.py      the training recipe (HF Trainer + DeepSpeed)
  cli.py         `theoremllama train`; launch.py: the same under the `deepspeed` launcher
  smoke_tokenizer.py  a BPE tokenizer with a chat template trained in seconds (smoke runs, tests)

This file imports nothing heavy: `from theoremllama.train.prompt import ...` never loads torch.
"""
