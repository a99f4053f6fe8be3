/-
Copyright (c) 2024. Released under Apache 2.0 license.
/- a nested block comment
theorem nested_fake : False := sorry -/
theorem still_fake : False := sorry
-/
import Mathlib.Algebra.Group.Basic
import Mathlib.Tactic.Ring

/-!
# A module docstring

It talks about `theorem module_doc_fake : True` but declares nothing.
-/

universe u v

open Function

namespace Algebra.Ring

variable {α : Type u} [CommRing α]

/-- The docstring mentions
theorem doc_fake : True := trivial
and is not a declaration. -/
@[simp, norm_cast]
theorem add_zero' (a : α) : a + 0 = a := by
  simp -- trailing comment

@[simp,
  norm_cast]
protected lemma mul_one' (a : α) :
    a * 1 = a :=
  mul_one a

private theorem secret (a : α) : a = a := rfl

noncomputable section

theorem in_noncomputable : (1 : ℕ) = 1 := rfl

end

theorem _root_.rootLevel : (2 : ℕ) = 2 := rfl

theorem Sub.dotted (n : ℕ) : n = n := rfl

end Ring

theorem in_algebra (s : String) (h : s = "theorem fake := by\n sorry") : s = s := rfl

end Algebra

theorem top_level : True := trivial
