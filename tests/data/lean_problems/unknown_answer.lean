import Mathlib

abbrev hidden_answer : ℕ := sorry

theorem find_it : hidden_answer * 2 = 10 := sorry
