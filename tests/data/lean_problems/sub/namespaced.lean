import Mathlib
open BigOperators

namespace Imo1959P1

/-- a helper the statement uses -/
def frac (n : ℕ) : ℚ := (21 * n + 4) / (14 * n + 3)

/-- Prove that the fraction $(21n+4)/(14n+3)$ is irreducible for every natural number $n$. -/
theorem imo1959_p1 (n : ℕ) (h₀ : 0 < n) :
    Nat.gcd (21 * n + 4) (14 * n + 3) = 1 := by
  sorry

end Imo1959P1
