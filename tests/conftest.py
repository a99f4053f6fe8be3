"""Shared test setup.

Tests never touch the network or a model hub: models are built from configs with random
weights, tokenizers are trained in-process, data is what the project ships.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def python() -> str:
    return sys.executable

# tests/support holds test-only helpers (REPL test doubles, a scripted OpenAI-compatible server).
# They are importable from tests as `support.*`; the product never imports them.
sys.path.insert(0, str(Path(__file__).resolve().parent))
