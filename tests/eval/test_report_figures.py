"""The report's figures show comparable numbers only: y from 0, pass@k of round 0 without the
paper's cumulative figure beside it, the paper's line only beside a run with its protocol (2 rounds
x 128 samples, the whole split), labels that say rounds x samples, one slot per planned round."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from theoremllama.data.records import ProofAttempt  # noqa: E402
from theoremllama.eval.attempts import RunInfo  # noqa: E402
from theoremllama.eval.passk import summarize  # noqa: E402
from theoremllama.eval.report import pass_at_k_figure, rounds_figure, write_report  # noqa: E402


def _attempts(names, rounds, samples, solved_in):
    """Every sample fails except sample 0 of each problem in the round given by `solved_in`."""
    out = []
    for r in range(rounds):
        for n in names:
            if n in solved_in and solved_in[n] < r:
                continue
            for s in range(samples):
                ok = solved_in.get(n) == r and s == 0
                out.append(ProofAttempt(problem=n, round=r, sample=s, prompt_hash="h", completion="c", proof="by x",
                                        passed=ok, reason="ok" if ok else "error", split="valid"))
    return out


def _figures(rounds, samples, n_problems, solved_in):
    names = [f"p{i}" for i in range(n_problems)]
    run = RunInfo(split="valid", problems=names, samples=samples, rounds=rounds, model="m")
    attempts = _attempts(names, rounds, samples, solved_in)
    summary = summarize(attempts, names, split="valid", samples=samples)
    return pass_at_k_figure(attempts, run, "m"), rounds_figure(summary, run, "m")


def _labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_small_run_figures_start_at_zero_and_never_show_the_paper():
    passk, rounds = _figures(rounds=3, samples=8, n_problems=6, solved_in={"p0": 0, "p1": 0, "p2": 1})
    for fig in (passk, rounds):
        ax = fig.axes[0]
        assert ax.get_ylim()[0] == 0
        assert not any("paper" in t for t in _labels(ax))  # 3 x 8 on 6 problems: not comparable
        assert not [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert _labels(passk.axes[0]) == ["m: round 0, 8 samples/problem"]
    assert "m: solved so far (3 rounds x 8 samples)" in _labels(rounds.axes[0])
    plt.close("all")


def test_one_round_is_one_narrow_bar_and_the_legend_is_outside_the_data():
    _, rounds = _figures(rounds=2, samples=1, n_problems=3, solved_in={"p0": 0})
    ax = rounds.axes[0]
    lo, hi = ax.get_xlim()
    assert (lo, hi) == pytest.approx((-0.6, 1.6))  # a slot for each planned round, not one bar filling it
    bar = ax.patches[0]
    assert bar.get_width() / (hi - lo) < 0.3
    rounds.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.y1 < ax.get_window_extent().y0  # below the axes, over no data
    plt.close("all")


def test_the_paper_line_appears_only_beside_the_papers_protocol():
    _, rounds = _figures(rounds=2, samples=128, n_problems=244, solved_in={f"p{i}": 0 for i in range(50)})
    ax = rounds.axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(36.48)
    assert "TheoremLlama (paper): cumulative (2 rounds x 128 samples)" in _labels(ax)
    assert ax.get_ylim()[0] == 0
    _, fewer = _figures(rounds=2, samples=64, n_problems=244, solved_in={})
    assert not [line for line in fewer.axes[0].get_lines() if line.get_linestyle() == "--"]
    plt.close("all")


def test_write_report_writes_both_pngs(tmp_path):
    from theoremllama.eval.attempts import AttemptsFile

    names = ["p0", "p1"]
    with AttemptsFile(tmp_path / "attempts.jsonl", RunInfo(split="valid", problems=names, samples=2, rounds=1)) as f:
        for a in _attempts(names, 1, 2, {"p0": 0}):
            f.write(a)
    write_report(tmp_path / "attempts.jsonl")
    for name in ("pass_at_k.png", "rounds.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
