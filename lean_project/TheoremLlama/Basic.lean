import Mathlib

/-! A smoke-test module: `lake build` compiling this proves that Mathlib resolved and that the
toolchain matches `lean-toolchain`. The harness itself never imports this library; it checks
proofs in environments made from each submission's own header. -/

theorem TheoremLlama.smoke (a b : ℕ) : a + b = b + a := by
  exact Nat.add_comm a b
