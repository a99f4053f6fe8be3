/-!
Statements whose type holds a `:=` of its own (written for theoremllama's tests).
Each theorem's statement ends at the declaration's own `:=`, or at its first `| ... =>`.
-/

namespace Shapes

theorem let_in_type (n : Nat) : let m := n + 1; m = n + 1 := by
  intro m
  rfl

theorem nested_lets : let a := 1; let b := a + a; b = 2 := rfl

theorem have_in_type (xs : List Nat) (h : 0 < xs.length) :
    have hne : xs ≠ [] := List.ne_nil_of_length_pos h
    xs.head hne ∈ xs := by
  exact List.head_mem _

theorem haveI_in_type (i : Nat) (xs : Array Nat) (h : i < xs.size) :
    haveI : i < xs.toList.length := by simpa using h
    xs.toList[i] = xs[i] := by
  simp

theorem letI_in_type :
    letI inst : Add Nat := ⟨Nat.mul⟩
    (2 : Nat) + 3 = 6 := by
  rfl

theorem default_argument (n : Nat) (k : Nat := 2) : n + k = k + n :=
  Nat.add_comm n k

theorem structure_instance : ({ fst := 1, snd := 2 } : Nat × Nat).fst = 1 := rfl

theorem fun_then_let : ∀ f : Nat → Nat, f = fun x => let y := f x; y := by
  intro f
  rfl

theorem by_alternatives : ∀ n : Nat, n + 0 = n
  | 0 => rfl
  | _ + 1 => rfl

theorem match_in_type (n : Nat) :
    match n with
    | 0 => True
    | _ + 1 => True := by
  cases n <;> trivial

theorem abs_lines (a b : Int) :
    |a - b| = |b - a| := by
  exact abs_sub_comm a b

end Shapes
