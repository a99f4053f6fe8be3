import Mathlib

-- only a definition here: nothing to prove
def double (n : ℕ) : ℕ := 2 * n
