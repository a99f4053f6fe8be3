"""End-to-end bootstrap job against a scripted OpenAI-compatible server on loopback.

The only thing scripted is the model behind a real HTTP server (tests/support/openai_server.py):
it answers per theorem with good, malformed, refusing, repetitive and code-altering replies,
plus HTTP faults. The retriever is the real shipped encoder; outputs are real files; the resume
test kills a real `theoremllama bootstrap` process with SIGKILL.
"""

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from support.openai_server import Fault, ScriptedOpenAIServer
from theoremllama.bootstrap.config import config_from_dict
from theoremllama.bootstrap.informalize import parse_informal
from theoremllama.data.minif2f import format_informal
from theoremllama.bootstrap.pipeline import run_bootstrap
from theoremllama.data.jsonl import read_jsonl

SEED = Path(__file__).resolve().parents[2] / "data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json"
ROWS = [r for r in json.loads(SEED.read_text()) if r.get("Commented_proof")][:20]
NAMES = [r["Name"] for r in ROWS]
BY_NAME = {r["Name"]: r for r in ROWS}

# What the scripted model does, per theorem (by position in NAMES); the rest answer well.
REFUSES, FORMAT_ONCE, ALTERS_CODE, NO_COMMENTS_ONCE, HTTP500_ONCE, REPEATS, MALFORMED_ONCE, NO_CODE = NAMES[:8]
EXPECTED_REJECTED = {REFUSES: "informalize/refusal", ALTERS_CODE: "weave/code_changed",
                     REPEATS: "informalize/repetitive", NO_CODE: "weave/no_code"}
EXPECTED_ACCEPTED = set(NAMES) - set(EXPECTED_REJECTED)


def good_informal(name):
    return (f"# Informal statement\nThe claim stated by {name}.\n\n# Informal proof\n"
            f"We follow the formal argument of {name}: simplify the hypotheses, then close the goal "
            "with the arithmetic tactic that the formal proof uses.")


def make_responder():
    seen = Counter()

    def respond(body):
        last = body["messages"][-1]["content"]
        name = re.search(r"theorem\s+(\S+)", last).group(1)
        stage = "informal" if last.startswith("Lean 4 theorem:") else "weave"
        seen[stage, name] += 1
        first = seen[stage, name] == 1
        if stage == "informal":
            if name == REFUSES:
                return "I'm sorry, but I cannot help with this request."
            if name == FORMAT_ONCE and first:
                return "The theorem is true because of arithmetic."
            if name == HTTP500_ONCE and first:
                return Fault(status=500)
            if name == REPEATS:
                return "# Informal statement\nIt holds for every x.\n# Informal proof\n" + "and then we simplify again " * 40
            return good_informal(name)
        if name == ALTERS_CODE:
            return "```lean4\n" + BY_NAME[name]["Commented_proof"] + "\n  norm_num\n```"
        if name == NO_COMMENTS_ONCE and first:
            return "```lean4\n" + BY_NAME[name]["Proof"] + "\n```"
        if name == MALFORMED_ONCE and first:
            return Fault(malformed=True)
        if name == NO_CODE:
            return "This proof is already clear."
        return "Here is the proof with comments:\n```lean4\n" + BY_NAME[name]["Commented_proof"] + "\n```"

    return respond


def write_input(path):
    with open(path, "w") as f:
        for i, r in enumerate(ROWS):
            f.write(json.dumps({"idx": 100 + i, "Name": r["Name"], "Statement": r["Statement"],
                                "Proof": r["Proof"]}, ensure_ascii=False) + "\n")


def config_dict(tmp_path, server, **extra):
    d = {"input": str(tmp_path / "theorems.jsonl"), "output": str(tmp_path / "out"),
         "llm": {"backend": "openai", "model": "scripted", "base_url": server.base_url, "backoff_base": 0.01},
         "examples": {"k": 2, "cache_dir": str(tmp_path / "emb")}, "concurrency": 8}
    d.update(extra)
    return d


def test_end_to_end_exact_counts_and_rerun(tmp_path):
    write_input(tmp_path / "theorems.jsonl")
    with ScriptedOpenAIServer(make_responder()) as server:
        summary = run_bootstrap(config_from_dict(config_dict(tmp_path, server)), progress=False)

        assert summary.accepted == 16 and summary.processed == 20
        assert summary.rejected == Counter(EXPECTED_REJECTED.values())
        assert summary.attempt_failures == {
            "informalize/refusal": 3, "informalize/format": 1, "informalize/repetitive": 3,
            "weave/code_changed": 3, "weave/no_comments": 1, "weave/no_code": 3}
        # 3+3+4+3+3+3+3+4 requests for the scripted eight, 2 for each of the other twelve;
        # the HTTP 500 and the malformed body were retried by the client and are not usage.
        assert len(server.requests) == 50 and summary.requests == 48
        assert summary.prompt_tokens > 0 and summary.completion_tokens > 0

        # A theorem is never its own in-context example.
        for body in server.requests:
            name = re.search(r"theorem\s+(\S+)", body["messages"][-1]["content"]).group(1)
            shown = [m["content"] for m in body["messages"][1:-1]]
            assert len(shown) == 4 and not any(f"theorem {name} " in s for s in shown)

        out = tmp_path / "out"
        accepted = list(read_jsonl(out / "obt.jsonl"))
        assert {d["Name"] for d in accepted} == EXPECTED_ACCEPTED and len(accepted) == 16
        for d in accepted:
            row = BY_NAME[d["Name"]]
            assert d["idx"] == 100 + NAMES.index(d["Name"])
            assert d["Commented_proof"] == row["Commented_proof"].strip("\n") and d["Proof"] == row["Proof"]
            # stored in the project's one informal layout, whatever layout the model answered in
            assert d["Generated_informal_statement_and_proof"] == format_informal(*parse_informal(good_informal(d["Name"])))
        rejections = {d["Name"]: f"{d['stage']}/{d['reason']}" for d in read_jsonl(out / "rejections.jsonl")}
        assert rejections == EXPECTED_REJECTED

        import datasets
        ds = datasets.load_from_disk(str(out / "dataset"))
        assert ds.num_rows == 16 and ds["idx"] == sorted(ds["idx"])
        assert json.loads((out / "summary.json").read_text())["accepted"] == 16

        # A rerun does nothing: every theorem is accepted or rejected already.
        before = len(server.requests)
        again = run_bootstrap(config_from_dict(config_dict(tmp_path, server)), progress=False)
        assert again.processed == 0 and again.already_done == 20 and len(server.requests) == before

        # retry_rejected retries exactly the four rejected theorems, without duplicating them.
        retried = run_bootstrap(config_from_dict(config_dict(tmp_path, server, retry_rejected=True)), progress=False)
        assert retried.processed == 4 and retried.rejected == Counter(EXPECTED_REJECTED.values())
        names = [d["Name"] for d in read_jsonl(out / "rejections.jsonl")]
        assert sorted(names) == sorted(EXPECTED_REJECTED)
        assert len(list(read_jsonl(out / "obt.jsonl"))) == 16


@pytest.mark.slow
def test_killed_run_resumes_without_loss_or_duplicates(tmp_path, root):
    write_input(tmp_path / "theorems.jsonl")
    out = tmp_path / "out"
    with ScriptedOpenAIServer(make_responder(), latency=0.05) as server:
        # No retrieval here (fixed examples), so the subprocess starts fast.
        cfg = config_dict(tmp_path, server, concurrency=2)
        cfg["examples"] = {"k": 2, "encoder": None}
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
        with open(tmp_path / "stderr.txt", "wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "theoremllama.cli", "bootstrap", "--config",
                                     str(tmp_path / "c.yaml"), "--no-progress"], cwd=root,
                                    stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = (out / "obt.jsonl").read_text().count("\n") if (out / "obt.jsonl").exists() else 0
            if done >= 5 or proc.poll() is not None:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()
        finished = {d["Name"] for f in ("obt.jsonl", "rejections.jsonl") if (out / f).exists()
                    for d in read_jsonl(out / f, tolerate_truncated_tail=True)}
        assert 5 <= len(finished) < 20

        requests_before = len(server.requests)
        config = config_from_dict(cfg)
        summary = run_bootstrap(config, progress=False)
        assert summary.already_done == len(finished) and summary.processed == 20 - len(finished)
        redone = {re.search(r"theorem\s+(\S+)", b["messages"][-1]["content"]).group(1)
                  for b in server.requests[requests_before:]}
        assert not redone & finished  # nothing finished before the kill was asked for again

    accepted = [d["Name"] for d in read_jsonl(out / "obt.jsonl")]
    assert sorted(accepted) == sorted(EXPECTED_ACCEPTED)  # exact set, no duplicates
    rejected = [d["Name"] for d in read_jsonl(out / "rejections.jsonl")]
    assert sorted(rejected) == sorted(EXPECTED_REJECTED)
    assert summary.total_accepted == 16


@pytest.mark.parametrize("iterate", [True, False])
def test_iterate_adds_accepted_records_to_the_bank(tmp_path, iterate):
    """Theorem B is nearly theorem A: with `iterate`, A (accepted first) is B's retrieved example."""
    other = dict(ROWS[0])
    (tmp_path / "bank.jsonl").write_text(json.dumps(other, ensure_ascii=False) + "\n")
    a = "theorem alpha_sum (a b : ℝ) (h₀ : a + b = 7) (h₁ : a - b = 1) : a = 4 := by\n  linarith"
    b = "theorem beta_sum (a b : ℝ) (h₀ : a + b = 9) (h₁ : a - b = 1) : a = 5 := by\n  linarith"
    with open(tmp_path / "theorems.jsonl", "w") as f:
        for i, p in enumerate([a, b]):
            f.write(json.dumps({"idx": i, "Name": p.split()[1], "Statement": p[:p.index(":= by") + 2], "Proof": p},
                               ensure_ascii=False) + "\n")

    def respond(body):
        last = body["messages"][-1]["content"]
        name = re.search(r"theorem\s+(\S+)", last).group(1)
        if last.startswith("Lean 4 theorem:"):
            return good_informal(name)
        proof = a if name == "alpha_sum" else b
        return "```lean4\n" + proof.replace("  linarith", "  -- Add the two equations.\n  linarith") + "\n```"

    with ScriptedOpenAIServer(respond) as server:
        cfg = config_dict(tmp_path, server, concurrency=1, iterate=iterate)
        cfg["examples"] = {"k": 1, "bank": str(tmp_path / "bank.jsonl"), "cache_dir": str(tmp_path.parent / "emb")}
        summary = run_bootstrap(config_from_dict(cfg), progress=False)
        assert summary.accepted == 2
        beta_prompts = [b_["messages"] for b_ in server.requests if "theorem beta_sum" in b_["messages"][-1]["content"]]
        assert len(beta_prompts) == 2
        for messages in beta_prompts:
            example = messages[1]["content"]
            assert ("theorem alpha_sum" in example) == iterate
            assert ("theorem " + other["Name"] in example) == (not iterate)
