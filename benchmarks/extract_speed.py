"""How fast `theoremllama data extract` reads a Mathlib-sized tree (prints figures; not a test).

    .venv/bin/python benchmarks/extract_speed.py                 # 7,000 files, ~125 MB
    .venv/bin/python benchmarks/extract_speed.py --files 500     # a quick look

Generates a Lean tree into a temporary directory: Mathlib's shape (7,000 files averaging ~18 KB,
about 125 MB in all; Mathlib has ~7,000 files and a source size of that order) with Mathlib-like
content: module docstrings, imports, nested namespaces and sections, `variable`s, docstrings,
multi-line `@[...]` attributes, tactic and term proofs, pattern matching, `where` clauses,
comments, string literals, primes and unicode names, and the `def`/`instance`/`example`
declarations that are skipped. Then extracts it on one core and prints MB/s and theorems/s
(target: the whole tree in under 60 s). `--profile` prints the top of a cProfile run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from pathlib import Path

from theoremllama.data.extract import extract_repo

THEOREM = '''/-- The {i}-th fact about `{ns}`: for every `n`, the sum `n + {i}` is what you think.
It is stated here with a `theorem` keyword in the docstring that must not be picked up. -/
@[simp{attr}]
theorem {name}_{i} {{α : Type*}} [CommRing α] (a b : α) (h{i}' : a = b) (n : ℕ) :
    a * (n + {i} : α) = b * (n + {i} : α) := by
  subst h{i}'
  -- the two sides are now syntactically equal
  rfl
'''
LEMMA = '''@[to_additive (attr := simp)
  "The additive version: `{name}_{i}` says \\"sum\\" instead of 'product'."]
lemma {name}_mul_{i} (x y : ℕ) (hx : 0 < x) (hy' : 0 < y) : 0 < x * y + {i} :=
  Nat.lt_of_lt_of_le (Nat.mul_pos hx hy') (Nat.le_add_right _ _)
'''
MATCH = '''theorem {name}_rec_{i} : ∀ n : ℕ, n + 0 = n
  | 0 => rfl
  | n + 1 => by
    have h := {name}_rec_{i} n
    omega
'''
PRIVATE = '''private theorem {name}_aux_{i} (s : Finset ℕ) (hs : s.Nonempty) :
    ∑ i ∈ s, (i + {i}) = ∑ i ∈ s, i + s.card * {i} := by
  rw [Finset.sum_add_distrib, Finset.sum_const, smul_eq_mul] /- a block
  comment -/
'''
DEF = '''/-- A definition (skipped). -/
def {name}Fn{i} (n : ℕ) : ℕ := n + {i}

instance instInhabited{name}{i} : Inhabited ℕ := ⟨{i}⟩
'''
WHERE = '''theorem {name}_where_{i} : 0 < {i} + 1 := aux
where
  aux : 0 < {i} + 1 := Nat.succ_pos _
'''
EXAMPLE = '''example : ({i} : ℕ) + 0 = {i} := by norm_num -- checks the simp set

'''


def lean_file(rng: random.Random, index: int, target_bytes: int) -> str:
    ns = f"Gen{index % 97}.Sub{index}"
    name = rng.choice(["foo", "bar", "mul_comm", "αβγ", "norm_sq", "card_le"])
    parts = [f"/-\nCopyright (c) 2024. All rights reserved.\n-/\nimport Mathlib.Algebra.Ring.Basic\n"
             f"import Mathlib.Order.Lattice\n\n/-!\n# Generated file {index}\n\nNot a `theorem x : y`.\n-/\n\n"
             f"open Function Set\n\nuniverse u\n\nnamespace {ns}\n\nvariable {{R : Type u}} [CommRing R]\n\n"]
    size = sum(len(p) for p in parts)
    i = 0
    templates = [THEOREM, THEOREM, LEMMA, MATCH, PRIVATE, DEF, WHERE, EXAMPLE]
    while size < target_bytes:
        if i % 9 == 8:
            block = f"section S{i}\n\nopen Finset in\n" + THEOREM.format(i=i, ns=ns, name=name, attr="") + \
                f"\nend S{i}\n\n"
        else:
            block = rng.choice(templates).format(i=i, ns=ns, name=name, attr=rng.choice(["", ", norm_cast", ",\n  mono"]))
            block += "\n"
        parts.append(block)
        size += len(block.encode("utf-8"))
        i += 1
    parts.append(f"end {ns}\n")
    return "".join(parts)


def generate_tree(root: Path, files: int, mean_kb: float, seed: int = 0) -> int:
    rng = random.Random(seed)
    total = 0
    for k in range(files):
        d = root / "Mathlib" / f"Area{k % 40}" / f"Topic{k % 211}"
        d.mkdir(parents=True, exist_ok=True)
        target = int(rng.lognormvariate(0, 0.6) * mean_kb * 1000 / 1.2)  # sizes vary like Mathlib's
        text = lean_file(rng, k, max(target, 1500))
        (d / f"File{k}.lean").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=7000)
    ap.add_argument("--mean-kb", type=float, default=18.0, help="mean file size in KB")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tl-extract-bench-") as tmp:
        t0 = time.perf_counter()
        total = generate_tree(Path(tmp), args.files, args.mean_kb)
        print(f"generated {args.files} files, {total / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
        result = extract_repo(tmp, commit="bench")
        if args.profile:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
        print(result.summary())
        print(f"rate: {result.bytes / 1e6 / result.seconds:.2f} MB/s, "
              f"{len(result.records) / result.seconds:,.0f} theorems/s, "
              f"{result.files / result.seconds:,.0f} files/s; "
              f"whole tree: {result.seconds:.1f} s (target < 60 s)")


if __name__ == "__main__":
    main()
