"""Fixtures for the service tests: Verifier pools over the REPL double (tests/support/fake_lean_repl.py),
the only boundary replaced."""

import pytest

from support.served import DOUBLE
from theoremllama.lean import Verifier


@pytest.fixture
def pool():
    """A factory of Verifier pools over the REPL double, closed after the test."""
    made = []

    def make(**options):
        options.setdefault("workers", 2)
        options.setdefault("timeout", 10)
        v = Verifier(DOUBLE, progress=False, **options)
        made.append(v)
        return v
    yield make
    for v in made:
        v.close()
