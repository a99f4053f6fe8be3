import Mathlib

open Set

abbrev putnam_like_solution : Set ℕ := sorry
-- {n : ℕ | 0 < n ∧ n % 2 = 0}
/--
Find every positive even number.
-/
theorem putnam_like
    (S : Set ℕ) (hS : S = {n : ℕ | 0 < n ∧ 2 ∣ n}) :
    S = putnam_like_solution :=
  sorry
