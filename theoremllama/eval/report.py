"""`theoremllama report ATTEMPTS.jsonl [-o OUTDIR]`: tables, a JSON summary and plots.

Everything is computed from the attempts file alone: its first line names the split and every
problem evaluated (see `attempts.py`), so problems no attempt reached still count as unsolved.
A file without that line (attempts made by another tool) is accepted: the problems are then the
ones that appear in it, and the split the one the attempts name.

Writes into OUTDIR (default: the attempts file's folder):
    report.md       accuracy per round and cumulative (with the paper's figures as reference),
                    pass@k, failures by reason
    summary.json    the same numbers, machine-readable (`passk.EvalSummary`)
    pass_at_k.png   pass@k against k (round 0), from 0 %
    rounds.png      share of problems solved per round, and cumulatively, from 0 %; the paper's
                    cumulative accuracy only when this run has its protocol (2 rounds x 128, whole split)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from theoremllama.data.jsonl import atomic_open, atomic_write_text
from theoremllama.errors import InputError, UserError
from theoremllama.eval.attempts import RunInfo, read_attempts
from theoremllama.eval.passk import EvalSummary, mean_pass_at_k, round0_counts, summarize

# The paper's headline results (TheoremLlama, Wang et al. 2024): cumulative accuracy over two
# rounds of iterative proof writing, 128 samples per problem per round.
PAPER_RESULTS: dict[str, float] = {"valid": 0.3648, "test": 0.3361}
PAPER_LABEL = "TheoremLlama (paper)"
PAPER_PROTOCOL = (2, 128)  # rounds, samples per problem per round
PAPER_PROBLEMS = 244       # each split, whole


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("attempts", help="attempts file written by `theoremllama eval` (attempts.jsonl)")
    parser.add_argument("-o", "--output-dir", default=None,
                        help="where to write report.md, summary.json and the plots (default: beside the attempts)")
    parser.add_argument("--label", default=None, help="name of the evaluated model in the table (default: from the run)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def run(args: argparse.Namespace) -> int:
    summary = write_report(args.attempts, args.output_dir, label=args.label, plots=not args.no_plots)
    out = Path(args.output_dir) if args.output_dir else Path(args.attempts).parent
    print(f"{summary.split or 'MiniF2F'}: cumulative accuracy {_pct(summary.cumulative_accuracy)} "
          f"({len(summary.solved)}/{summary.problems}); report in {out}")
    return 0


def load_run(attempts_path: str | Path) -> tuple[RunInfo, list]:
    """The run metadata (derived from the attempts when the file has none) and the attempts."""
    path = Path(attempts_path)
    if not path.is_file():
        raise UserError(f"{path}: no such attempts file")
    run, attempts = read_attempts(path)
    if run is None:
        if not attempts:
            raise InputError("no run metadata and no attempts: nothing to report", path=str(path))
        splits = sorted({a.split for a in attempts})
        rounds0 = {}
        for a in attempts:
            if a.round == 0 and a.depth == 0:
                rounds0[a.problem] = rounds0.get(a.problem, 0) + 1
        run = RunInfo(split=splits[0] if len(splits) == 1 else "", samples=max(rounds0.values(), default=0),
                      problems=list(dict.fromkeys(a.problem for a in attempts)),
                      rounds=max(a.round for a in attempts) + 1)
    else:
        known = set(run.problems)
        for a in attempts:
            if a.problem not in known:
                raise InputError(f"problem {a.problem!r} is not among the run's {len(known)} problems",
                                 path=str(path), line=_line_of(path, a), field="problem")
    return run, attempts


def write_report(attempts_path: str | Path, output_dir: str | Path | None = None, *,
                 label: str | None = None, plots: bool = True) -> EvalSummary:
    """Write report.md, summary.json and (if `plots`) the PNGs; return the numbers."""
    run, attempts = load_run(attempts_path)
    summary = summarize(attempts, run.problems, split=run.split, samples=run.samples)
    label = label or run.model or "model"
    out = Path(output_dir) if output_dir is not None else Path(attempts_path).parent
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "report.md", markdown(summary, label=label, rounds=run.rounds,
                                                  benchmark=run.extra.get("benchmark", "MiniF2F")))
    doc = {"label": label, "run": run.to_dict(), **summary.to_dict(),
           "paper": {"label": PAPER_LABEL, "cumulative_accuracy": PAPER_RESULTS}}
    atomic_write_text(out / "summary.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if plots:
        _save(pass_at_k_figure(attempts, run, label), out / "pass_at_k.png")
        _save(rounds_figure(summary, run, label), out / "rounds.png")
    return summary


def markdown(summary: EvalSummary, *, label: str, rounds: int | None = None, benchmark: str = "MiniF2F") -> str:
    """The report's Markdown: accuracy table (paper reference rows first), pass@k, failures."""
    n_rounds = max(rounds or 0, len(summary.rounds), 1)
    split = summary.split
    title = f"{benchmark}-{split}" if split else benchmark
    lines = [f"# {title}: {label}", ""]
    if not summary.complete:
        lines += ["**Incomplete run**: some problems have fewer attempts than planned; the numbers "
                  "below are lower bounds.", ""]
    head = ["model", "split", "problems", "samples/round"] + [f"round {r}" for r in range(n_rounds)] + ["cumulative"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s, acc in PAPER_RESULTS.items():
        if split in ("", s) and benchmark == "MiniF2F":  # the paper's figures are MiniF2F's
            row = [PAPER_LABEL, s, "244", "128"] + ["–"] * n_rounds + [_pct(acc)]
            lines.append("| " + " | ".join(row) + " |")
    by_round = {r.round: r for r in summary.rounds}
    cells = [f"{_pct(by_round[r].accuracy)} ({by_round[r].solved_new})" if r in by_round else "–"
             for r in range(n_rounds)]
    solved = len(summary.solved)
    row = [label, split or "?", str(summary.problems), str(summary.samples)] + cells + \
          [f"{_pct(summary.cumulative_accuracy)} ({solved})"]
    lines += ["| " + " | ".join(row) + " |", ""]
    lines += ["Round r: problems first solved in round r (count), as a share of all problems. "
              "Cumulative: solved in any round, the paper's headline metric.", ""]
    if summary.pass_at_k:
        lines += ["## pass@k (round 0)", "", "| k | pass@k |", "|---|---|"]
        lines += [f"| {k} | {_pct(v)} |" for k, v in summary.pass_at_k.items()]
        lines += [""]
    lines += budget_markdown(summary)
    reasons = sorted(summary.reasons)
    if reasons:
        lines += ["## Attempts by verdict", ""]
        head = ["reason"] + [f"round {r.round}" for r in summary.rounds] + ["total"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for reason in reasons:
            row = [reason] + [str(r.reasons.get(reason, 0)) for r in summary.rounds] + [str(summary.reasons[reason])]
            lines.append("| " + " | ".join(row) + " |")
        lines += [""]
    return "\n".join(lines)


def budget_markdown(summary: EvalSummary) -> list[str]:
    """Generation calls per problem, solved problems by repair depth and pass@budget."""
    calls = summary.calls
    if not calls or not calls["repairs"]:  # without repairs, calls are the samples of the table above
        return []
    lines = ["## Generation calls", "",
             f"{calls['total']} completions asked for: {calls['samples']} samples + {calls['repairs']} repairs; "
             f"per problem {calls['mean']:.2f} on average, {calls['max']} at most (all rounds).", ""]
    lines += ["## Solved problems by repair depth", "", "| depth | solved | share |", "|---|---|---|"]
    lines += [f"| {d} ({'sample' if d == 0 else 'repair'}) | {n} | {_pct(n / summary.problems)} |"
              for d, n in summary.solved_by_depth.items()]
    lines += ["", "## pass@budget (round 0): repair against plain sampling at the same number of calls", "",
              "| calls per problem | plain sampling pass@b | samples + repairs, solved within b calls |",
              "|---|---|---|"]
    for row in summary.pass_at_budget:
        plain = _pct(row["plain"]) if row["plain"] is not None else "– (more calls than samples)"
        lines.append(f"| {row['budget']} | {plain} | {_pct(row['repair'])} |")
    lines += ["", "Samples + repairs: a problem counts as solved within b calls when a passing attempt comes "
              "among its first b calls in the order sample 0, its repairs (depth first), sample 1, ... "
              "Plain sampling beyond the samples per problem needs a run with that many samples "
              "(`repair.rounds: 0`).", ""]
    return lines


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _line_of(path: Path, attempt) -> int | None:
    """1-based line of an attempt in its file (only needed to report an error)."""
    needle = (attempt.problem, attempt.round, attempt.sample)
    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, start=1):
            try:
                d = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(d, dict) and (d.get("problem"), d.get("round"), d.get("sample")) == needle:
                return i
    return None


def _protocol(rounds: int, samples: int) -> str:
    return f"{rounds} round{'s' * (rounds != 1)} x {samples} sample{'s' * (samples != 1)}"


def _comparable_to_paper(run: RunInfo, problems: int) -> bool:
    """The paper's figure (cumulative accuracy, 2 rounds x 128 samples, the whole split) is only
    drawn beside a run that did the same: anything else would compare different quantities."""
    return (run.split in PAPER_RESULTS and (run.rounds, run.samples) == PAPER_PROTOCOL
            and problems == PAPER_PROBLEMS)


def pass_at_k_figure(attempts, run: RunInfo, label: str):
    """pass@k of round 0 against k (1 .. samples); y from 0. No reference line: the paper reports
    no round-0 pass@k, and its cumulative accuracy is another quantity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = round0_counts(attempts, run.problems)
    n = run.samples
    ks = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n}) if n >= 1 else []
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    values = [100 * mean_pass_at_k(counts, k) for k in ks]
    if ks:
        ax.plot(ks, values, marker="o", label=f"{label}: round 0, {n} sample{'s' * (n != 1)}/problem")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlim(ks[0] / 1.5, ks[-1] * 1.5)
        for k, v in zip(ks, values):
            ax.annotate(f"{v:.1f}", (k, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ymax = min(100, max(10, 1.25 * max(values, default=0)))
    ax.set_ylim(0, ymax * 1.05)  # headroom: a point at the top is not drawn on the frame
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= ymax])
    ax.set_xlabel("k (samples drawn from the round-0 samples)")
    ax.set_ylabel("pass@k (%)")
    title = f"MiniF2F-{run.split}" if run.split else "MiniF2F"
    ax.set_title(f"{title}: pass@k in round 0 ({len(run.problems)} problems)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    return fig


def rounds_figure(summary: EvalSummary, run: RunInfo, label: str):
    """Share of problems first solved in each round (bars) and solved so far (line), y from 0,
    one slot per planned round; the paper's cumulative accuracy only beside a run with its protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    planned = max(run.rounds, len(summary.rounds), 1)
    total = max(summary.problems, 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    xs = [r.round for r in summary.rounds]
    new = [100 * r.solved_new / total for r in summary.rounds]
    cumulative = [100 * r.cumulative_solved / total for r in summary.rounds]
    bars = ax.bar(xs, new, width=0.5, label="first solved in this round (count on the bar)")
    ax.plot(xs, cumulative, color="black", marker="o",
            label=f"{label}: solved so far ({_protocol(planned, run.samples)})")
    top = max(cumulative + [0])
    if _comparable_to_paper(run, summary.problems):
        paper = 100 * PAPER_RESULTS[run.split]
        ax.axhline(paper, color="grey", linestyle="--",
                   label=f"{PAPER_LABEL}: cumulative ({_protocol(*PAPER_PROTOCOL)})")
        top = max(top, paper)
    ymax = min(100, max(10, 1.25 * top))
    ax.set_ylim(0, ymax * 1.05)  # headroom: a point at the top is not drawn on the frame
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= ymax])
    for bar, r in zip(bars, summary.rounds):  # inside a tall bar; above a short one, clear of the line's marker
        x, height = bar.get_x() + bar.get_width() / 2, bar.get_height()
        if height > 0.12 * ymax:
            ax.annotate(str(r.solved_new), (x, height / 2), ha="center", va="center", color="white", fontsize=8)
        else:
            ax.annotate(str(r.solved_new), (x, height), textcoords="offset points", xytext=(9, 3), ha="left",
                        fontsize=8)
    ax.set_xlim(-0.6, planned - 0.4)
    ax.set_xticks(range(planned))
    ax.set_xlabel("round of iterative proof writing")
    ax.set_ylabel(f"% of the {summary.problems} problems")
    ax.set_title(f"MiniF2F-{summary.split}: solved per round" if summary.split else "solved per round")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    return fig


def _save(fig, path: Path) -> None:
    """Save a figure atomically (temporary file, then rename)."""
    import matplotlib.pyplot as plt  # the `report` extra; imported only when plotting

    with atomic_open(path, "wb") as f:
        fig.savefig(f, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
