#!/usr/bin/env bash
# Create .venv and install theoremllama with the extras needed to run the whole pipeline on CPU
# and its tests. torch is pinned first (constraints.txt): an unpinned torch pulls GBs of CUDA
# wheels. On a GPU cluster, install your own torch build first, then `pip install -e .[train,llm,rl]`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt "torch==2.13.0"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[llm,train,rl,report,serve,ray,dev]"
echo "installed: $(.venv/bin/theoremllama --version)"
