"""Does ``--timeout`` hold for any space on a tiny table, and what do cheap runs pay for it?

Part 1: ``automl run --timeout B --trial-timeout 5`` on demo tables with absurd user spaces
(iteration counts no fit reaches, libsvm with a huge C, a very wide network), for this checkout
and a baseline commit (default: ``main``), one after the other in the same run. Wall time is
measured outside the process, from its start to its exit; "killed" means it was stopped at
2 x budget + 10 s.

Part 2: the small-table speed: ``demo:iris --n-trials 30`` with ``fast.yaml`` and the default
space (no tracking, ``--n-jobs 1``), wall time of each side, the better of two runs.

    python benchmarks/bench_absurd.py                   # ~4 minutes on 2 cores
    python benchmarks/bench_absurd.py --budget 20 --baseline main

Needs git (both sides are checked out with ``git worktree``); no network.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _harness import checkouts, run_automl

BASELINE_REF = "main"
NEW_REF = "HEAD"

# name -> (table: demo:NAME, or "noisy": 3,000 rows x 6 noisy columns, 18,000 cells), space YAML
ABSURD = {
    "hgb max_iter 1e8": ("iris", "models:\n  hist_gradient_boosting:\n    max_iter: 100000000\n"
                                 "    early_stopping: false\n"),
    "svm C 1e6, gamma 1": ("noisy", "models:\n  svm:\n    C: 1.0e+6\n    gamma: 1.0\n"),
    "mlp 3 x 2048, max_iter 1e8": ("breast_cancer", "models:\n  mlp:\n    n_layers: 3\n"
                                                    "    layer_size: 2048\n    max_iter: 100000000\n"
                                                    "    early_stopping: false\n"),
    "logistic + hgb 1e8": ("wine", "models:\n  logistic:\n    C: 1.0\n  hist_gradient_boosting:\n"
                                   "    max_iter: 100000000\n    early_stopping: false\n"),
}


def run(code: Path, work: Path, args: list[str], kill_after: float) -> dict:
    """One ``automl run`` as a user starts it; wall time from process start to exit."""
    result = run_automl(code, ["run", "--no-tracking", "--quiet", "--n-jobs", "1", "--workdir", str(work), *args],
                        work, kill_after)
    err = result.pop("stderr").strip()
    return {**result, "error": err.splitlines()[-1][:200] if err else ""}


def noisy_table(path: Path) -> Path:
    """A tiny table libsvm struggles with: 30 % of the labels flipped."""
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(3000, 6, flip_y=0.3, random_state=0)
    pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(target=y).to_csv(path, index=False)
    return path


def absurd_part(sides: dict[str, Path], folder: Path, budget: float) -> list[dict]:
    rows = []
    noisy = noisy_table(folder / "noisy.csv")
    for name, (table, space) in ABSURD.items():
        path = folder / f"{abs(hash(name))}.yaml"
        path.write_text(space)
        row = {"space": name, "table": table}
        for side, code in sides.items():
            row[side] = run(code, folder / "runs" / f"{path.stem}-{side}",
                            ["--data", str(noisy) if table == "noisy" else f"demo:{table}",
                             "--target", "target", "--space", str(path), "--timeout", str(budget),
                             "--trial-timeout", "5"], 2 * budget + 10)
            r = row[side]
            print(f"{name} on {table} {side}: wall {r['wall']:.1f} s, exit {r['code']}"
                  f"{' (killed)' if r['killed'] else ''} {r['error']}", flush=True)
        rows.append(row)
    return rows


def speed_part(sides: dict[str, Path], folder: Path) -> list[dict]:
    rows = []
    for space in ("fast.yaml", "default.yaml"):
        walls: dict[str, list[float]] = {side: [] for side in sides}
        for i in range(3):  # the sides take turns, so a busier minute does not favour one
            for side, code in sides.items():
                walls[side].append(run(code, folder / "speed" / f"{space}-{side}-{i}",
                                       ["--data", "demo:iris", "--space", space, "--n-trials", "30"],
                                       600)["wall"])
        print(f"iris {space} 30 trials: {walls}", flush=True)
        rows.append({"space": space, **{side: min(w) for side, w in walls.items()}})
    return rows


def print_tables(absurd: list[dict], speed: list[dict], budget: float) -> None:
    if absurd:
        print_absurd(absurd, budget)
    if speed:
        print_speed(speed)


def print_absurd(absurd: list[dict], budget: float) -> None:
    print("\n| space | table | budget s | main wall s | new wall s | main exit | new exit |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in absurd:
        main, new = r["main"], r["new"]
        print(f"| {r['space']} | {r['table']} | {budget:g} | {main['wall']:.1f}{' (killed)' if main['killed'] else ''} | "
              f"{new['wall']:.1f}{' (killed)' if new['killed'] else ''} | "
              f"{'-' if main['killed'] else main['code']} | {'-' if new['killed'] else new['code']} |")


def print_speed(speed: list[dict]) -> None:
    print("\n| demo:iris, 30 trials | main wall s | new wall s | new / main |")
    print("|---|---:|---:|---:|")
    for r in speed:
        print(f"| {r['space']} | {r['main']:.2f} | {r['new']:.2f} | {r['new'] / r['main']:.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--baseline", default=BASELINE_REF)
    parser.add_argument("--new", default=NEW_REF, help="the commit to measure (default HEAD)")
    parser.add_argument("--part", choices=("all", "absurd", "speed"), default="all")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-absurd-") as tmp:
        folder = Path(tmp)
        with checkouts({"main": args.baseline, "new": args.new}, folder) as sides:
            absurd = absurd_part(sides, folder, args.budget) if args.part != "speed" else []
            speed = speed_part(sides, folder) if args.part != "absurd" else []
    print_tables(absurd, speed, args.budget)
    if args.json:
        Path(args.json).write_text(json.dumps({"absurd": absurd, "speed": speed}, indent=2))


if __name__ == "__main__":
    main()
