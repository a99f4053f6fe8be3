"""Learning from Lean: expert iteration and GRPO with the Lean verdict as reward.

Modules (read in this order):
  config.py      the YAML configs of `iterate` (train/expert_iteration.yaml) and `rl` (train/grpo.yaml)
  problems.py    problem files, and the held-out guard (evaluation problems never enter training)
  verifier.py    the verifier built from a config's `verifier` section
  collect.py     verified attempts -> deduplicated proofs (at most m per problem, shortest first) -> SFT rows
  iterate.py     expert iteration: rounds of prove -> collect -> SFT, resumable at each stage
  reward.py      the Lean reward for GRPO: batched verification, failures counted apart from wrong proofs
  grpo.py        GRPO with TRL's GRPOTrainer on the project's prompts and verifier
  iterate_cli.py, rl_cli.py   `theoremllama iterate` and `theoremllama rl`
"""
