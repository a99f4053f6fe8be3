namespace Forms

theorem by_cases_match : ∀ n : ℕ, n + 0 = n
  | 0 => rfl
  | n + 1 => by
    have h := by_cases_match n
    omega

theorem abs_statement (a : ℤ) :
    |a| = |a| := rfl

theorem term_mode (p q : Prop) (hp : p) (hq : q) : p ∧ q :=
  ⟨hp, hq⟩

theorem with_where : 0 < 2 := aux
where
  aux : 0 < 2 := by decide

theorem structure_where : Equivalence (@Eq ℕ) where
  refl := Eq.refl
  symm := Eq.symm
  trans := Eq.trans

theorem «weird name» : True := trivial

theorem αβ_x₁ (x₁ : ℕ) (h' : x₁ = x₁) : x₁ = x₁ := h'

theorem char_lit : 'a' = 'a' ∧ '"' = '"' := ⟨rfl, rfl⟩

theorem autoparam (n : ℕ) (h : n = n := by rfl) : True := trivial

def skipped_def : ℕ := 1

instance : Inhabited ℕ := ⟨0⟩

example : True := trivial

abbrev Skipped := ℕ

structure S where
  x : ℕ

theorem
