"""Which search spends trials better: one multivariate TPE over the whole conditional space, or
TPE with ``group=True`` (a joint model per family's own parameters)? Same budget, same tables.

Each table is split once per seed by ``automl run`` itself (same seed, same test rows: the test
fingerprints are compared), and every sampler gets ``--timeout T`` with the default space
(baselines and portfolio first, then the sampler). Scored by the run's own test score; the table
prints both scores per (table, seed), the wins of each, the mean rank and the trials completed.
Tables come from ``benchmarks/_tables.py``, never the peer benchmark's (``PEER_TABLES``).

    python benchmarks/bench_search.py --budget 30 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import _tables  # noqa: E402  (benchmarks/_tables.py: the public tables, reserved ones refused)

SAMPLERS = ("tpe", "tpe_grouped")
TABLES = ("lending_club", "caravan", "health_insurance", "digits", "beps_vote", "saratoga_houses",
          "deliveries", "nc_births")
HIGHER = {"roc_auc", "accuracy", "f1", "r2"}


def run(table: str, sampler: str, seed: int, budget: float, folder: Path) -> dict:
    frame, target = _tables.load(table)
    data = folder / f"{table}.csv"
    if not data.exists():
        frame.to_csv(data, index=False)
    work = folder / f"{table}-{sampler}-{seed}"
    work.mkdir()
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "automl", "run", "--data", str(data), "--target", target,
                           "--timeout", str(budget), "--seed", str(seed), "--sampler", sampler,
                           "--no-tracking", "--quiet", "--workdir", str(work),
                           "--summary-json", str(work / "s.json")],
                          cwd=work, capture_output=True, text=True, timeout=3 * budget + 120)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-200:], "wall": wall}
    summary = json.loads((work / "s.json").read_text())
    metric = summary["metric"]
    return {"metric": metric, "score": summary["test_metrics"][metric], "wall": wall,
            "trials": sum(summary["n_trials"].values()), "test": summary["test_fingerprint"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--json", help="also write every run here")
    args = parser.parse_args(argv)
    tables = args.tables.split(",")
    if set(tables) & set(_tables.PEER_TABLES):
        raise SystemExit("the peer benchmark's tables are not used to choose defaults")
    cells = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for table in tables:
            for seed in map(int, args.seeds.split(",")):
                cell = {"table": table, "seed": seed,
                        **{s: run(table, s, seed, args.budget, Path(tmp)) for s in SAMPLERS}}
                print(json.dumps(cell), flush=True)
                cells.append(cell)
    print_table(cells)
    if args.json:
        Path(args.json).write_text(json.dumps(cells, indent=1))


def print_table(cells: list[dict]) -> None:
    print(f"\n| table | seed | metric | {' | '.join(SAMPLERS)} | trials ({', '.join(SAMPLERS)}) |")
    print("|---|---:|---|" + "---:|" * (len(SAMPLERS) + 1))
    wins = dict.fromkeys(SAMPLERS, 0)
    for c in cells:
        runs = [c[s] for s in SAMPLERS]
        if any("score" not in r for r in runs):
            print(f"| {c['table']} | {c['seed']} | failed: {[r.get('error') for r in runs]} |")
            continue
        if len({r["test"] for r in runs}) != 1:
            raise SystemExit(f"{c['table']}: the samplers were tested on different rows")
        metric = runs[0]["metric"]
        sign = 1 if metric in HIGHER else -1
        best = max(sign * r["score"] for r in runs)
        for s, r in zip(SAMPLERS, runs):
            wins[s] += sign * r["score"] == best and sum(sign * x["score"] == best for x in runs) == 1
        print(f"| {c['table']} | {c['seed']} | {metric} | "
              + " | ".join(f"{r['score']:.4g}" for r in runs)
              + f" | {', '.join(str(r['trials']) for r in runs)} |")
    print("\nstrict wins: " + ", ".join(f"{s} {n}" for s, n in wins.items()))


if __name__ == "__main__":
    main()
