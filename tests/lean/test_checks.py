"""The check commands and their parsers (theoremllama/lean/checks.py) against the shapes Lean
v4.24.0 prints, and the REPL double's replies against the same shapes (the double is a model of
Lean, so its shapes are tested here too). Pure text checks, plus the double as a process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from theoremllama.lean.checks import (ELIDED, PP_OPTIONS, ReferenceTypes, check_commands, printed_axioms, printed_type,
                                      qualified_name, reference_check_line, reference_code)
from theoremllama.lean.protocol import Message, Pos, split_replies

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")]


def info(data, line=1):
    return Message("info", Pos(line, 0), None, data)


def test_axiom_lists_in_both_of_leans_forms():
    assert printed_axioms([info("'t' depends on axioms: [propext, Classical.choice, Quot.sound]")]) == [
        "propext", "Classical.choice", "Quot.sound"]
    # MessageData.ofList breaks a long list after its commas
    assert printed_axioms([info("'a.very.long.name' depends on axioms: [propext,\n sorryAx,\n Classical.choice,\n"
                                " Lean.ofReduceBool,\n Quot.sound]")]) == [
        "propext", "sorryAx", "Classical.choice", "Lean.ofReduceBool", "Quot.sound"]
    assert printed_axioms([info("'t' does not depend on any axioms")]) == []
    # silence, an error, or the text in a warning is not an axiom list
    assert printed_axioms([]) is None
    assert printed_axioms([Message("error", Pos(1, 0), None, "unknown constant 't'")]) is None
    assert printed_axioms([Message("warning", Pos(1, 0), None, "'t' does not depend on any axioms")]) is None


def test_printed_type_takes_the_term_form_whatever_the_layout():
    assert printed_type([info("@t.{u} : ∀ {α : Sort u} (a : α),\n  @Eq.{u} α a a")]) == "∀ {α : Sort u} (a : α), @Eq.{u} α a a"
    assert printed_type([info("t : True"), info("'t' depends on axioms: [propext]")]) == "True"
    assert printed_type([info("'t' does not depend on any axioms")]) is None
    assert printed_type([Message("error", Pos(1, 0), None, "x : y")]) is None


def test_every_bounded_pretty_printer_option_is_raised_in_both_checks():
    names = dict(PP_OPTIONS)
    assert int(names["pp.maxSteps"]) >= 10**9 and names["pp.deepTerms"] == names["pp.proofs"] == "true"
    assert names["pp.oneline"] == "false" and names["pp.all"] == "true" and names["pp.motives.all"] == "true"
    candidate = check_commands("Foo.t")
    reference = reference_code("theorem t : True :=", "Foo.t")
    for name, value in PP_OPTIONS:
        assert f"set_option {name} {value} in\n" in candidate and f"set_option {name} {value} in\n" in reference
    assert candidate.endswith("#check @_root_.Foo.t\n#print axioms _root_.Foo.t")
    assert reference.splitlines()[reference_check_line("theorem t : True :=", "Foo.t") - 1].startswith("set_option pp.all")
    assert ELIDED == "⋯"


def test_names_and_the_reference_cache():
    assert qualified_name("Foo", "t") == "Foo.t" and qualified_name("", "t") == "t"
    assert qualified_name("Foo", "_root_.t") == "t"
    refs = ReferenceTypes()
    refs.put("import A", "theorem t : c = c :=", "c = c")
    assert refs.get("import A", "theorem t : c = c :=") == (True, "c = c")
    assert refs.get("import B", "theorem t : c = c :=") == (False, None)
    assert refs.get("import A", "theorem t : d = d :=") == (False, None)


# ----------------------------------------------------------------------------- the double's shapes

def ask(*cmds):
    """Send commands to a fresh double, each in the previous command's environment."""
    text = ""
    for i, cmd in enumerate(cmds):
        request = {"cmd": cmd} if i == 0 else {"cmd": cmd, "env": i - 1}
        text += json.dumps(request, ensure_ascii=False) + "\n\n"
    out = subprocess.run(DOUBLE, input=text, capture_output=True, text=True, timeout=30).stdout
    return split_replies(out)


def test_the_double_prints_axioms_as_lean_does():
    replies = ask("axiom zzz : True\naxiom aaa : True\ntheorem t : True := by\n  have := zzz\n  have := aaa\n  native_decide",
                  "#print axioms t", "theorem u : 1 = 1 := rfl", "#print axioms u")
    (listed,) = replies[1]["messages"]
    # Name.lt: one-part names first (anonymous prefix), then by prefix: Classical < Lean < Quot
    assert listed["data"] == "'t' depends on axioms: [aaa, propext, zzz, Classical.choice, Lean.ofReduceBool, Quot.sound]"
    assert replies[3]["messages"][0]["data"] == "'u' does not depend on any axioms"
    long = "x" * 60
    replies = ask(f"axiom {long}a : True\naxiom {long}b : True\ntheorem t : True := by\n  have := {long}a\n"
                  f"  have := {long}b\n  simp", "#print axioms t")
    data = replies[1]["messages"][0]["data"]
    assert ",\n " in data and max(map(len, data.split("\n"))) <= 120
    assert printed_axioms([info(data)]) == ["propext", f"{long}a", f"{long}b", "Classical.choice", "Quot.sound"]


def test_the_double_prints_check_as_lean_does():
    replies = ask("theorem poly {α : Sort u} (a : α) : a = a := rfl\ntheorem plain (n : Nat) : n = n := rfl",
                  "#check @poly\n#check @plain\n#check plain")
    poly, plain, signature = (m["data"] for m in replies[1]["messages"])
    assert poly == "@poly.{u} : ∀ {α : Sort u} (a : α), a = a"
    assert plain == "plain : ∀ (n : Nat), n = n"
    assert signature == "plain (n : Nat) : n = n"  # as recorded for `#check demo` (repl_transcripts_v4.24.0)
    binders = " ".join(f"(h{i} : {i} < {i} + 1)" for i in range(12))
    replies = ask(f"theorem wide {binders} : True := trivial", "#check @wide")
    data = replies[1]["messages"][0]["data"]
    assert data.startswith("wide : ∀ (h0") and ",\n  True" in data
    assert printed_type([info(data)]) == f"∀ {binders}, True"


def test_the_double_cuts_types_after_pp_max_steps():
    statement = "theorem big : " + " + ".join(["1"] * 3000) + " = 3000 := by norm_num"
    replies = ask(statement, "#check @big", "set_option pp.maxSteps 100000 in\n#check @big")
    assert replies[1]["messages"][0]["data"].endswith(ELIDED)
    assert replies[2]["messages"][0]["data"].endswith("= 3000")


def test_reference_check_line_counts_a_multiline_statement():
    statement = "theorem t (x : ℕ)\n    (h : x = 2) :\n    x + x = 4 :="
    code = reference_code(statement, "t")
    line = reference_check_line(statement, "t")
    assert line == 5 and code.splitlines()[line - 1] == f"set_option {PP_OPTIONS[0][0]} {PP_OPTIONS[0][1]} in"
    assert reference_check_line(statement, "a.much.longer.name") == line


def test_verdict_records():
    from theoremllama.lean.verdict import Verdict
    v = Verdict("j", False, "axiom", axioms=["sorryAx"], detail="d")
    assert Verdict.from_dict({**v.to_dict(), "extra": 1}) == v and v.to_dict()["axioms"] == ["sorryAx"]
    with pytest.raises(ValueError, match="unknown verdict reason 'great'"):
        Verdict("j", False, "great")
    with pytest.raises(ValueError, match="passed=True contradicts reason 'error'"):
        Verdict("j", True, "error")
    with pytest.raises(ValueError, match="passed=False contradicts reason 'ok'"):
        Verdict("j", False, "ok")
