"""Dedup, length filters and deterministic splits: nothing dropped without a counted reason."""

import subprocess
import sys

import pytest

from theoremllama.data.filters import (
    deduplicate, filter_length, normalized_statement, split_fraction, train_valid_split,
)
from theoremllama.data.records import OBTRecord, TheoremRecord
from theoremllama.errors import UserError


def thm(name, statement, proof=None):
    return TheoremRecord(name=name, statement=statement, proof=proof or statement + " rfl")


def test_dedup_by_name_and_by_normalised_statement():
    records = [
        thm("a", "theorem a (n : ℕ) : n = n :="),
        thm("a", "theorem a : True :="),                                  # same name
        thm("b", "lemma b  (n : ℕ) :\n    n = n -- why\n  :="),            # same statement, other name/layout
        thm("c", "theorem c (n : ℕ) : /- note -/ n = n + 0 :="),
        OBTRecord(idx=0, Name="d", Statement="theorem d (n : ℕ) : n = n + 0 :=", Proof="p"),  # as c, other type
        {"name": "e", "statement": "theorem e : \"--\" = \"--\" :=", "proof": "x"},
    ]
    result = deduplicate(records)
    assert [getattr(r, "name", None) or r["name"] for r in result.kept] == ["a", "c", "e"]
    assert result.dropped == {"duplicate name": 1, "duplicate statement": 2}
    assert result.examples == {"duplicate name": "a", "duplicate statement": "b"}
    assert "dropped 3" in result.summary()
    assert len(deduplicate(records, by_statement=False).kept) == 5
    # `--` inside a string is not a comment (whitespace is collapsed everywhere, strings included).
    assert normalized_statement("theorem x :\n  \"a -- b\" = y :=") == 'theorem : "a -- b" = y :='


def test_length_filters_count_each_reason():
    records = [thm("short", "theorem s : True :=", "theorem s : True := trivial"),
               thm("longstmt", "theorem l : " + "x" * 100 + " :="),
               thm("manylines", "theorem m : True :=", "theorem m : True := by\n" + "  skip\n" * 10 + "  trivial"),
               thm("tiny", "theorem t :=", "t")]
    result = filter_length(records, max_statement_chars=50, max_proof_lines=5, min_proof_chars=5)
    assert [r.name for r in result.kept] == ["short"]
    assert result.dropped == {"statement chars > 50": 1, "proof lines > 5": 1, "proof chars < 5": 1}
    assert filter_length(records).kept == records


def test_split_is_deterministic_stable_and_keeps_names_together():
    records = [thm(f"T{i % 300}", f"theorem t{i} : {i} = {i} :=") for i in range(600)]
    split = train_valid_split(records, valid_fraction=0.2, seed=7)
    again = train_valid_split(list(reversed(records)), valid_fraction=0.2, seed=7)
    assert {id(r) for r in split.valid} == {id(r) for r in again.valid}  # order does not matter
    assert 0.12 < len(split.valid) / len(records) < 0.28
    valid_names = {r.name for r in split.valid}
    assert not valid_names & {r.name for r in split.train}  # both copies of a name on one side
    # Adding records never moves an old one across.
    more = train_valid_split(records + [thm(f"new{i}", "theorem n :=") for i in range(100)], valid_fraction=0.2, seed=7)
    assert valid_names <= {r.name for r in more.valid}
    assert {r.name for r in train_valid_split(records, valid_fraction=0.2, seed=8).valid} != valid_names
    with pytest.raises(UserError, match="valid_fraction"):
        train_valid_split(records, valid_fraction=1.5)


def test_split_hash_is_the_same_in_another_process():
    """Python's own hash() is salted per process; the split must not be."""
    code = "from theoremllama.data.filters import split_fraction; print(repr(split_fraction('Nat.add_comm', 3)))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert float(other) == split_fraction("Nat.add_comm", 3)
    assert 0.0 <= float(other) < 1.0
