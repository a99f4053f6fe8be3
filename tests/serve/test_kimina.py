"""`POST /api/check` in kimina-lean-server's wire format, over real HTTP on loopback (the REPL behind
the pool is the test double). The request and response shapes asserted here are kimina-lean-server's
public models (project-numina/kimina-lean-server: `CheckRequest`, `Snippet`, `ReplResponse`,
`CheckResponse`, and its client's validity rule: no `error`, no message of severity error, no sorries)."""

import requests

from support.served import HEADER, Served
from theoremllama.serve.kimina import Snippet, snippet_job
from theoremllama.lean.job import VerifyJob
from theoremllama.lean.verdict import Verdict

THEOREM = "theorem t{i} (x : ℕ) (h : x = 2) : x + x = 4 := by\n"


def kimina_valid(result: dict) -> bool:
    """kimina's client rule (`ReplResponse.analyze`: valid = no error, no error message, no sorries)."""
    if result.get("error") is not None:
        return False
    response = result["response"]
    if "message" in response:
        return False
    return not any(m["severity"] == "error" for m in response.get("messages", [])) and not response.get("sorries")


def test_kimina_round_trip(pool):
    snippets = [
        {"id": "good", "code": HEADER + THEOREM.format(i=0) + "  norm_num"},
        {"id": "wrong", "code": HEADER + THEOREM.format(i=1) + "  double_error"},
        {"id": "sorry", "code": HEADER + THEOREM.format(i=2) + "  sorry"},
        {"id": "axiom", "code": HEADER + THEOREM.format(i=3) + "  native_decide"},
        # a cheat in the header lines: trusted in /verify's header, policed here
        {"id": "debug", "code": "import Mathlib\nset_option debug.skipKernelTC true\n" + THEOREM.format(i=4) + "  norm_num"},
        {"id": "helper", "code": "import Mathlib\naxiom cheat : False\n" + THEOREM.format(i=5) + "  exact cheat.elim"},
        {"id": "second", "code": HEADER + THEOREM.format(i=6) + "  norm_num\ntheorem extra : 1 = 1 := rfl"},
        {"id": "hang", "code": HEADER + THEOREM.format(i=7) + "  double_hang"},
        {"id": "notheorem", "code": "import Mathlib\n#check Nat"},
        {"id": "lemma", "code": "import Mathlib\nopen Real\n\nlemma l8 : (2 : ℕ) + 2 = 4 := by norm_num"},
        # lemma style: auxiliaries, then the target (the last theorem)
        {"id": "aux", "code": HEADER + "lemma two : (2 : ℕ) = 1 + 1 := by norm_num\n\n" + THEOREM.format(i=9) + "  norm_num"},
        {"id": "aux_attr", "code": HEADER + "@[simp] lemma two' : (2 : ℕ) = 1 + 1 := by norm_num\n" + THEOREM.format(i=10) + "  simp"},
        {"id": "aux_axiom", "code": HEADER + "lemma big : (2 : ℕ) ≤ 3 := by native_decide\n" + THEOREM.format(i=11) + "  exact big"},
        {"id": "aux_debug", "code": HEADER + "set_option debug.skipKernelTC true\nlemma one : 1 = 1 := rfl\n" + THEOREM.format(i=12) + "  norm_num"},
    ]
    request = {"snippets": snippets, "timeout": 20, "debug": False, "reuse": True, "infotree": None}
    with Served(pool(timeout=2)) as s:
        r = requests.post(f"{s.url}/api/check", json=request, timeout=60)
        assert r.status_code == 200
        results = r.json()["results"]
        # kimina's validation errors are 422s: empty batch, duplicate ids
        assert requests.post(f"{s.url}/api/check", json={"snippets": []}, timeout=10).status_code == 422
        dup = {"snippets": [{"id": "a", "code": "x"}, {"id": "a", "code": "y"}]}
        assert requests.post(f"{s.url}/api/check", json=dup, timeout=10).status_code == 422
        assert requests.post(f"{s.url}/api/check/", json={"snippets": snippets[:1]}, timeout=30).status_code == 200
    assert [x["id"] for x in results] == [s["id"] for s in snippets]
    for x in results:  # kimina's ReplResponse: exactly one of error / response; time a float; no None fields
        assert (x.get("error") is None) != (x.get("response") is None), x
        assert isinstance(x["time"], float) and None not in x.values()
        assert set(x) <= {"id", "time", "error", "response", "diagnostics", "verdict"}
    by_id = {x["id"]: x for x in results}
    reasons = {k: (v["verdict"]["reason"] if "verdict" in v else None) for k, v in by_id.items()}
    assert reasons == {"good": "ok", "wrong": "error", "sorry": "forbidden", "axiom": "axiom", "debug": "forbidden",
                       "helper": "forbidden", "second": "ok", "hang": "timeout", "notheorem": None,
                       "lemma": "ok", "aux": "ok", "aux_attr": "forbidden", "aux_axiom": "axiom",
                       "aux_debug": "forbidden"}
    # kimina's own validity rule agrees with our verdict on every snippet
    assert {k for k, v in by_id.items() if kimina_valid(v)} == {"good", "lemma", "second", "aux"}
    assert by_id["hang"]["error"] == "Lean REPL command timed out in 2 seconds"
    assert "debug.skipKernelTC" in by_id["debug"]["verdict"]["detail"]
    assert "axiom" in by_id["helper"]["verdict"]["detail"]
    assert "no `theorem`" in by_id["notheorem"]["error"]
    wrong = by_id["wrong"]["response"]["messages"]
    assert wrong[0]["severity"] == "error" and wrong[0]["pos"]["line"] == 9  # positions in the snippet (the tactic line)
    assert by_id["good"]["verdict"] == {"passed": True, "reason": "ok", "detail": ""}


def test_snippet_split_polices_everything_after_the_imports():
    job = snippet_job(Snippet(id="a", code="import Mathlib\nimport Aesop\nopen Real\n\ntheorem a : 1 = 1 := by rfl"))
    assert isinstance(job, VerifyJob) and job.statement.endswith(":=") and job.proof == " by rfl"
    assert job.statement.startswith("import Mathlib\nimport Aesop\nopen Real")
    cheat = snippet_job(Snippet(id="b", code="import Mathlib\nimport X\n@[simp] theorem b : 1 = 1 := rfl"))
    assert isinstance(cheat, Verdict) and cheat.reason == "forbidden" and "@[simp]" in cheat.detail
    # an `import` after other code is not a leading import: policed (and Lean would refuse it too)
    late = snippet_job(Snippet(id="c", code="open Real\nimport Mathlib\ntheorem c : 1 = 1 := rfl"))
    assert isinstance(late, VerifyJob)
    assert isinstance(snippet_job(Snippet(id="d", code="theorem d : 1 = 1")), str)


def test_verdicts_decided_without_lean_are_counted_in_the_metrics(pool):
    """A snippet refused by the policy before Lean runs still counts in /metrics, like a checked one."""
    from prometheus_client.parser import text_string_to_metric_families

    snippets = [{"id": "good", "code": HEADER + THEOREM.format(i=0) + "  norm_num"},
                {"id": "helper", "code": "import Mathlib\naxiom cheat : False\n" + THEOREM.format(i=1) + "  exact cheat.elim"}]
    with Served(pool()) as s:
        assert requests.post(f"{s.url}/api/check", json={"snippets": snippets}, timeout=60).status_code == 200
        text = requests.get(f"{s.url}/metrics", timeout=10).text
    counts = {smp.labels.get("reason"): smp.value for m in text_string_to_metric_families(text)
              for smp in m.samples if smp.name == "theoremllama_verdicts_total"}
    assert counts["ok"] == 1 and counts["forbidden"] == 1
