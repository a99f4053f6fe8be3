/-! Proofs that are not proofs, and proofs that only mention the word (for theoremllama's tests). -/

namespace Gaps

theorem open_problem : (∃ n : Nat, n * n = 2) ↔ answer(sorry) := by
  sorry

theorem tactic_sorry (a b : Nat) : a + b = b + a := by
  sorry

theorem term_sorry : 1 + 1 = 2 := sorry

theorem admitted (p : Prop) (hp : p) : p ∧ p := by
  constructor
  · exact hp
  · admit

theorem axiom_of_sorry : 2 + 2 = 5 := sorryAx _ false

theorem stopped (n : Nat) : n * 1 = n := by
  stop
  simp

theorem only_words (n : Nat) : n + 0 = n := by
  -- sorry for the long proof: it is `rfl`
  /- admit nothing, sorry nothing -/
  have _note : String := "sorry"
  rfl

theorem stop_is_a_name (start stop : Nat) (h : start ≤ stop) :
    stop - start + start = stop := by
  omega

theorem sorry_lemma_used (h : Nat.sorry_free = 0) : Nat.sorry_free = 0 := h

end Gaps
