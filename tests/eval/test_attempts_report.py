"""The attempts file (append-only, resumable, torn-tail tolerant) and the report built from it alone."""

import json

import pytest

from theoremllama.cli import main
from theoremllama.data.records import ProofAttempt
from theoremllama.errors import InputError, UserError
from theoremllama.eval.attempts import AttemptsFile, RunInfo, read_attempts
from theoremllama.eval.report import write_report

RUN = RunInfo(split="valid", problems=["p1", "p2", "p3"], samples=2, rounds=2, model="tiny")


def _a(problem, round, sample, reason):
    return ProofAttempt(problem=problem, round=round, sample=sample, prompt_hash="h", completion="c",
                        proof="by x", passed=reason == "ok", reason=reason, split="valid")


def _write(path, attempts, run=RUN):
    with AttemptsFile(path, run) as f:
        for a in attempts:
            f.write(a)


def test_torn_tail_is_dropped_and_resume_appends_after_it(tmp_path):
    path = tmp_path / "attempts.jsonl"
    _write(path, [_a("p1", 0, 0, "ok")])
    with open(path, "a") as f:
        f.write('{"problem": "p1", "round": 0, "sam')  # killed mid-line
    run, attempts = read_attempts(path)
    assert run == RUN and [a.key for a in attempts] == [("p1", 0, 0)]
    with AttemptsFile(path, RUN) as f:
        assert f.done(("p1", 0, 0)) and not f.done(("p1", 0, 1))
        f.write(_a("p1", 0, 1, "error"))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)  # metadata + 2 attempts


def test_resume_with_a_different_split_or_problem_list_is_refused(tmp_path):
    path = tmp_path / "attempts.jsonl"
    _write(path, [])  # a run that recorded nothing may be replaced by another
    _write(path, [], RunInfo(split="valid", problems=["p9"], samples=2, rounds=2))
    _write(path, [_a("p1", 0, 0, "ok")])
    with pytest.raises(UserError,
                       match=r"holds a different run \(.*problems: \[\"p1\", \"p2\", \"p3\"\] -> \[\"p1\"\]"):
        AttemptsFile(path, RunInfo(split="valid", problems=["p1"], samples=2, rounds=2))


def test_bad_lines_name_file_line_and_field(tmp_path):
    path = tmp_path / "attempts.jsonl"
    _write(path, [_a("p1", 0, 0, "ok")])
    good = path.read_text()
    cases = [
        ('{"problem": "p1", "round": "zero", "sample": 1, "prompt_hash": "h", "completion": "", "proof": ""}\n',
         "round"),
        ('{"problem": "p1", "round": 0, "sample": 1, "prompt_hash": "h", "completion": ""}\n', "proof"),
        ('{"problem": "p1", "round": 0, "sample": 0, "prompt_hash": "h", "completion": "", "proof": ""}\n',
         "sample"),  # the same (problem, round, sample) twice
    ]
    for bad, field in cases:
        path.write_text(good + bad)
        with pytest.raises(InputError) as e:
            read_attempts(path)
        assert (e.value.line, e.value.field) == (3, field)
    path.write_text(good + "not json\n" + good.splitlines()[1] + "\n")
    with pytest.raises(InputError) as e:
        read_attempts(path)
    assert e.value.line == 3 and str(path) in str(e.value)


def test_report_cli_on_bad_input_prints_one_line_and_exits_2(tmp_path, capsys):
    path = tmp_path / "attempts.jsonl"
    _write(path, [])
    with open(path, "a") as f:
        f.write(json.dumps(_a("stranger", 0, 0, "ok").to_dict()) + "\n")
    assert main(["report", str(path), "--no-plots"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{path}:2: field 'problem'" in err and "stranger" in err


EXPECTED_REPORT = """\
# MiniF2F-valid: tiny

| model | split | problems | samples/round | round 0 | round 1 | cumulative |
|---|---|---|---|---|---|---|
| TheoremLlama (paper) | valid | 244 | 128 | – | – | 36.48 % |
| tiny | valid | 3 | 2 | 33.33 % (1) | 33.33 % (1) | 66.67 % (2) |

Round r: problems first solved in round r (count), as a share of all problems. Cumulative: solved in any round, the paper's headline metric.

## pass@k (round 0)

| k | pass@k |
|---|---|
| 1 | 16.67 % |
| 2 | 33.33 % |

## Attempts by verdict

| reason | round 0 | round 1 | total |
|---|---|---|---|
| error | 3 | 2 | 5 |
| no_proof | 1 | 0 | 1 |
| ok | 1 | 1 | 2 |
| sorry | 1 | 1 | 2 |
"""


def test_report_is_rebuilt_from_the_attempts_file_alone(tmp_path):
    path = tmp_path / "run" / "attempts.jsonl"
    _write(path, [
        _a("p1", 0, 0, "error"), _a("p1", 0, 1, "ok"),
        _a("p2", 0, 0, "sorry"), _a("p2", 0, 1, "error"),
        _a("p3", 0, 0, "no_proof"), _a("p3", 0, 1, "error"),
        _a("p2", 1, 0, "error"), _a("p2", 1, 1, "error"),
        _a("p3", 1, 0, "sorry"), _a("p3", 1, 1, "ok"),
    ])
    out = tmp_path / "report"
    assert main(["report", str(path), "-o", str(out)]) == 0
    assert (out / "report.md").read_text() == EXPECTED_REPORT
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cumulative_accuracy"] == pytest.approx(2 / 3) and summary["solved"] == {"p1": 0, "p3": 1}
    assert summary["run"]["problems"] == ["p1", "p2", "p3"] and summary["complete"] is True
    for png in ("pass_at_k.png", "rounds.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreached_problems_count_as_unsolved(tmp_path):
    path = tmp_path / "attempts.jsonl"
    _write(path, [_a("p1", 0, 0, "ok"), _a("p1", 0, 1, "ok")])  # killed before p2, p3
    s = write_report(path, tmp_path, plots=False)
    assert s.cumulative_accuracy == pytest.approx(1 / 3) and not s.complete
    assert "Incomplete run" in (tmp_path / "report.md").read_text()
