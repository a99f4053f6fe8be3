"""Dedup, length filters and deterministic splits: nothing dropped without a counted reason."""

import subprocess
import sys

import pytest

from theoremllama.data.filters import (
    deduplicate, filter_length, get_field, normalized_statement, split_fraction, train_valid_split,
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
    records = [thm(f"T{i % 300}", f"theorem T{i % 300} : {i} = {i} :=") for i in range(600)]
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


def test_same_text_in_different_namespaces_or_contexts_are_different_theorems():
    """79 copies of `a 1 = 1`, each about the `a` of its own namespace: none is a duplicate."""
    from theoremllama.data.extract import extract_text

    text = "".join(f"namespace M{i}\ndef a (n : Nat) : Nat := n ^ {i}\n"
                   f"theorem a_one : a 1 = 1 := Nat.one_pow {i}\nend M{i}\n" for i in range(79))
    records, _ = extract_text(text, "Many.lean")
    assert len(records) == 79 and len({r.statement for r in records}) == 1
    result = deduplicate(records)
    assert len(result.kept) == 79 and not result.dropped
    # the same as OBT rows: only the fully qualified name tells the namespaces apart
    rows = [OBTRecord(idx=i, Name=r.name, Statement=r.statement, Proof=r.proof) for i, r in enumerate(records)]
    assert len(deduplicate(rows).kept) == 79
    # same namespace, other `open`s: other meanings; same namespace and context: a duplicate
    opened, _ = extract_text("open A in\ntheorem x : a 1 = 1 := rfl\nopen B in\ntheorem y : a 1 = 1 := rfl\n"
                             "theorem z : a 1 = 1 := rfl\ntheorem w : a 1 = 1 := rfl\n")
    result = deduplicate(opened)
    assert [r.name for r in result.kept] == ["x", "y", "z"]
    assert result.dropped == {"duplicate statement": 1} and result.examples == {"duplicate statement": "w"}


def test_filter_sorry_modes_and_dedup_prefers_a_proof_over_a_placeholder():
    from theoremllama.data.filters import filter_sorry

    records = [thm("p", "theorem p : 1 = 1 :=", "theorem p : 1 = 1 := by sorry"),
               thm("q", "theorem q : 2 = 2 :=", "theorem q : 2 = 2 := rfl -- no sorry here"),
               thm("p", "theorem p : 1 = 1 :=", "theorem p : 1 = 1 := rfl"),
               {"Name": "r", "Statement": "theorem r : 3 = 3 :=", "Proof": "theorem r : 3 = 3 := rfl",
                "Commented_proof": "theorem r : 3 = 3 := by\n  -- trivially\n  admit"}]
    def proofs(rs):
        return [get_field(r, "proof") for r in rs]

    assert filter_sorry(records, "keep").kept == records
    dropped = filter_sorry(records, "drop")
    assert proofs(dropped.kept) == proofs(records[1:3])
    assert dropped.dropped == {"contains sorry": 2}  # p's `sorry`, r's `admit` in its commented proof
    only = filter_sorry(records, "only")
    assert only.kept == [records[0], records[3]] and only.dropped == {"no sorry": 2}
    with pytest.raises(UserError):
        filter_sorry(records, "some")
    # the real proof of p is kept, not the placeholder before it; the order stays the file's
    assert proofs(deduplicate(records).kept) == proofs(records[1:])


def test_dedup_uses_corrected_names_and_says_so():
    rows = [{"Name": "mathd_algebra_10", "Statement": "theorem mathd_algebra_101 (x : ℝ) : x = x :=", "Proof": "a"},
            {"Name": "mathd_algebra_10", "Statement": "theorem mathd_algebra_104 (y : ℝ) : y + 0 = y :=", "Proof": "b"},
            {"Name": "Nat.foo", "Statement": "theorem foo : 1 = 1 :=", "Proof": "c"},
            {"id": "mathd_algebra_101#2", "statement": "theorem mathd_algebra_101 (x : ℝ) : x = x :=", "proof": "d"}]
    result = deduplicate(rows)
    assert [r.get("Name", r.get("id")) for r in result.kept] == ["mathd_algebra_101", "mathd_algebra_104", "Nat.foo"]
    assert result.dropped == {"duplicate name": 1}
    assert result.renamed == [("mathd_algebra_10", "mathd_algebra_101"), ("mathd_algebra_10", "mathd_algebra_104")]
    assert "2 names corrected" in result.renamed_summary()


def test_split_keeps_a_theorem_together_under_its_corrected_name():
    """A cut-off published name and the right one are one theorem: one side of the split."""
    rows = [{"Name": "mathd_algebra_10", "Statement": f"theorem mathd_algebra_{n} : True :=", "Proof": "p"}
            for n in range(100, 140)]
    rows += [{"Name": f"mathd_algebra_{n}", "Statement": f"theorem mathd_algebra_{n} : True :=", "Proof": "q"}
             for n in range(100, 140)]
    split = train_valid_split(rows, valid_fraction=0.5, seed=3)
    train = {r["Statement"] for r in split.train}
    assert train and not train & {r["Statement"] for r in split.valid}
