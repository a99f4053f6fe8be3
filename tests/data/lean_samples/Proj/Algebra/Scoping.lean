import Mathlib.Data.Finset.Basic

namespace A.B

open Nat

section Outer
variable (n : ℕ)
open Real in
theorem scoped_open (x : ℝ) : x = x := rfl

section Inner
variable (m : ℕ)
open Finset
theorem inner_thm : n + m = n + m := rfl
end Inner

theorem after_inner : n = n := rfl
end Outer

end B

theorem only_A : True := trivial

end A

set_option maxHeartbeats 400000 in
theorem heavy : True := by
  trivial

open Nat in theorem same_line_open (k : ℕ) : k.succ = k + 1 := rfl

theorem after_all : True := trivial
