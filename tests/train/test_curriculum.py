"""Curriculum sorting: the difficulty measure and the fixed, shuffle-free order."""

from theoremllama.data.records import OBTRecord
from theoremllama.train.curriculum import (
    OrderedSampler,
    curriculum_order,
    difficulty,
    tactic_steps,
    training_order,
)
from theoremllama.train.format import load_obt_records


def rec(name: str, body: str, idx: int = 0) -> OBTRecord:
    statement = f"theorem {name} (x : ℕ) (h : x = 2 := by rfl) : x + 1 = 3 :="
    return OBTRecord(idx=idx, Name=name, Statement=statement, Proof=f"{statement}{body}")


def test_tactic_steps_counts_lines_and_separators_not_comments():
    assert tactic_steps(rec("a", " by\n  norm_num")) == 1
    assert tactic_steps(rec("b", " by norm_num")) == 1
    assert tactic_steps(rec("c", " by\n  intro y\n  simp; ring")) == 3
    assert tactic_steps(rec("d", " by\n  constructor <;> norm_num")) == 2
    # natural-language comments (a commented proof) add nothing; the `:=` inside the statement's
    # default argument is not taken for the proof's start
    commented = rec("e", " by\n  -- first we simplify\n  simp\n  /- then\n  close it -/\n  ring")
    assert tactic_steps(commented) == 2
    assert tactic_steps(rec("f", " by\n  subst h\n  rfl")) == tactic_steps(rec("g", " by\n  -- c\n  subst h\n  rfl"))


def test_ties_break_by_length_then_name():
    short, long_, named = rec("zz", " by\n  simp"), rec("aa", " by\n  norm_num [Nat.succ]"), rec("ab", " by\n  simp")
    assert difficulty(short) < difficulty(long_)
    assert curriculum_order([long_, short, named]) == [2, 1, 0]  # ab, zz (same body: by name), then aa


def test_curriculum_order_on_shipped_records(records_path):
    records = load_obt_records(records_path)
    order = curriculum_order(records)
    assert sorted(order) == list(range(len(records)))
    keys = [difficulty(records[i]) for i in order]
    assert keys == sorted(keys)
    assert keys[0][0] < keys[-1][0]  # the data really spans easy to hard


def test_training_order_without_curriculum_is_a_seeded_permutation(records_path):
    records = load_obt_records(records_path)
    a = training_order(records, curriculum=False, seed=1)
    assert a == training_order(records, curriculum=False, seed=1)
    assert a != training_order(records, curriculum=False, seed=2)
    assert sorted(a) == list(range(len(records))) and a != list(range(len(records)))
    assert training_order(records, curriculum=True, seed=1) == curriculum_order(records)


def test_ordered_sampler_yields_the_order_every_epoch():
    sampler = OrderedSampler([3, 0, 2, 1])
    assert list(sampler) == [3, 0, 2, 1] == list(sampler) and len(sampler) == 4
