import Mathlib
import Aesop

open Real Nat
open Finset

/-- The answer: the sum of the first ten positive integers. -/
abbrev sum_ten_answer : ℕ := 55

/-- Show that $1 + 2 + \dots + 10$ is `sum_ten_answer`. -/
theorem sum_ten
    (s : ℕ)
    (hs : s = ∑ i in Finset.range 11, i) :
    s = sum_ten_answer :=
  sorry
