"""MiniF2F evaluation with iterative proof writing, pass@k and reports.

Modules (read in this order):
  passk.py     pass@k (unbiased estimator), per-round and cumulative accuracy
  extract.py   completion -> proof after `:=`, spliced onto the original statement
  prompts.py   NL-guided / formal-only prompts, the example bank and the contamination guard
  attempts.py  the append-only, resumable attempts file (run metadata + one attempt a line)
  pipeline.py  generation -> extraction -> verification, overlapped
  config.py    the YAML config (`eval/minif2f.yaml`)
  evaluate.py  the rounds of iterative proof writing
  report.py    `theoremllama report`: Markdown, JSON, plots
  cli.py       `theoremllama eval`
"""
