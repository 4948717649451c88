"""Does the retrain gate's decision agree with rows no model saw? The gate of a baseline commit
(scored the champion on today's table, rows it memorised included) and of the new one, over the
same retrain cycles in the same run.

Each scenario is a sequence of ``automl retrain`` commands, as a nightly job runs them, on a
table that changes from one cycle to the next, with real SQLite MLflow and Optuna stores; a block
of rows that no cycle is ever given is the truth. After each cycle both the challenger and the
champion it was compared with are loaded from the registry and scored on that block (5,000 rows):
the challenger is truly *better* when the 95% paired-bootstrap interval of its gain lies above 0,
*worse* when below, else *equal*. A decision agrees when it promotes a better challenger or keeps
the champion against an equal or worse one.

- growing: a table that grows by appending; spaces alternate between deep trees (they memorise
  their training rows) and logistic regression (truly better on this linear signal).
- shifting: the relation changes after 2,000 rows (new weights); the never-seen rows are of the
  new regime, where a challenger that has seen some of it is truly better.
- recoded: today's file is yesterday's rows re-encoded (Parquet, columns in reverse order, floats
  as float32, the category as a categorical dtype, ints as floats) plus new ones: the fingerprints
  must still recognise the old rows.

    python benchmarks/bench_gate.py [--baseline b587335] [--new HEAD] [--scenarios growing,shifting]

Needs git (both sides are checked out with ``git worktree``); no network.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from automl.metrics import Predictions, get_metric
from automl.retrain._paired import paired
from automl.tracking import load_logged_model

import _harness as harness

BASELINE_REF = "b587335"  # main before row fingerprints: the gate scored on memorised rows
TRUTH_ROWS = 5_000
TREES = "models:\n  decision_tree:\n    max_depth: 40\n"
LINEAR = "models:\n  logistic:\n    C: 1.0\n"
WEIGHTS = np.array([1.0, -0.8, 0.6, 0.0, 0.0, 0.3])
SHIFTED = np.array([-0.6, -0.8, 1.0, 0.7, 0.0, 0.3])  # after the shift: x0 turns, x2 and x3 matter


def world(n: int, seed: int, weights: np.ndarray = WEIGHTS) -> pd.DataFrame:
    """A noisy linear signal over six numbers and a three-level category, with a binary target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).round(3)
    colour = rng.choice(["red", "green", "blue"], size=n)
    signal = X @ weights + np.where(colour == "red", 0.4, 0.0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(
        colour=colour, count=rng.integers(0, 5, size=n))
    return frame.assign(target=(signal + rng.normal(scale=1.6, size=n) > 0).astype(int))


def recode(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows as another export writes them: what the schema check accepts."""
    numbers = {c: "float32" for c in frame.columns if c.startswith("x")}
    return frame[frame.columns[::-1]].astype({**numbers, "colour": "category", "count": float})


def scenarios() -> dict[str, tuple[list[tuple[str, pd.DataFrame, str]], pd.DataFrame]]:
    """Per scenario: its cycles (name, today's table, space) and the never-seen rows."""
    grow = world(4_000 + TRUTH_ROWS, 1)
    growing = [("day1", grow.iloc[:1_500], TREES), ("day2", grow.iloc[:2_000], TREES),
               ("day3", grow.iloc[:3_000], LINEAR), ("day4", grow.iloc[:3_500], TREES),
               ("day5", grow.iloc[:4_000], LINEAR)]
    old, new = world(2_000, 2), world(2_000 + TRUTH_ROWS, 3, SHIFTED)
    shifting = [("day1", old, TREES), ("day2", pd.concat([old, new.iloc[:1_000]], ignore_index=True), TREES),
                ("day3", pd.concat([old, new.iloc[:2_000]], ignore_index=True), LINEAR)]
    base = world(3_500 + TRUTH_ROWS, 4)
    recoded = [("day1", base.iloc[:2_000], TREES), ("day2", recode(base.iloc[:2_500]), TREES),
               ("day3", recode(base.iloc[:3_500]), LINEAR)]
    return {"growing": (growing, grow.iloc[4_000:]), "shifting": (shifting, new.iloc[2_000:]),
            "recoded": (recoded, base.iloc[3_500:])}


def retrain(code: Path, work: Path, name: str, table: pd.DataFrame, space: str, model: str) -> dict:
    """One ``automl retrain`` of ``code`` as a scheduler starts it; its summary."""
    if isinstance(table["colour"].dtype, pd.CategoricalDtype):  # recoded: dtypes a CSV cannot hold
        data = work / f"{name}.parquet"
        table.to_parquet(data)
    else:
        data = work / f"{name}.csv"
        table.to_csv(data, index=False)
    (work / f"{name}.yaml").write_text(space)
    summary = work / f"{name}.json"
    args = ["retrain", "--data", str(data), "--target", "target", "--register-model", model,
            "--workdir", str(work), "--space", str(work / f"{name}.yaml"), "--n-trials", "3", "--cv", "3",
            "--n-jobs", "1", "--seed", "0", "--quiet", "--summary-json", str(summary)]
    result = harness.run_automl(code, args, work)
    if result["code"] != 0:
        raise SystemExit(f"{code.name} {name}: exit {result['code']}: {result['stderr'].strip()[-500:]}")
    return json.loads(summary.read_text())


def truth(work: Path, model: str, summary: dict, rows: pd.DataFrame) -> tuple[str, float, float, float]:
    """The challenger against the champion it was compared with, on the never-seen rows."""
    uri = f"sqlite:///{work}/mlruns/mlflow.db"
    X, y = rows.drop(columns="target"), rows["target"].to_numpy()
    models = [load_logged_model(f"models:/{model}/{summary[key]}", uri)
              for key in ("registered_version", "champion_version")]
    preds = [Predictions(m.predict(X), m.predict_proba(X), m.classes_) for m in models]
    result = paired(get_metric("binary", "roc_auc"), y, preds[0], preds[1], 0.95, seed=0)
    verdict = "better" if result.low > 0 else "worse" if result.high < 0 else "equal"
    return verdict, result.challenger, result.champion, result.gain


def run_side(code: Path, side: str, folder: Path, chosen: list[str]) -> list[dict]:
    rows = []
    for scenario in chosen:
        cycles, never_seen = scenarios()[scenario]
        work = folder / side / scenario
        work.mkdir(parents=True)
        for name, table, space in cycles:
            started = time.monotonic()
            s = retrain(code, work, name, table, space, scenario)
            row = {"side": side, "scenario": scenario, "cycle": name, "rows": len(table),
                   "decision": s["decision"], "reason": s.get("reason", ""),
                   "compared": (s.get("comparison") or {}).get("rows"),
                   "seen_by_champion": (s.get("comparison") or {}).get("seen_by_champion"),
                   "champion_score": s.get("champion_score"), "challenger_score": s.get("challenger_score"),
                   "wall": time.monotonic() - started}
            if s.get("champion_version") is not None:
                row["truth"], row["new"], row["old"], row["gain"] = truth(work, scenario, s, never_seen)
                row["agrees"] = (s["decision"] == "promoted") == (row["truth"] == "better")
            rows.append(row)
            print(f"{side:8} {scenario:8} {name}: {row['decision']:13} truth {row.get('truth', '-'):6} "
                  f"{'' if 'agrees' not in row else ('agrees' if row['agrees'] else 'DISAGREES')}"
                  f"  ({row['reason'][:150]})", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """One line per cycle: each side's decision against its own truth (each side has its own
    champion history, so the pair it compares can differ)."""
    lines = ["| scenario | cycle | rows | baseline: decision (truth, gain on never-seen) "
             "| new: decision (truth, gain on never-seen) | gate's scores: baseline, new (challenger / champion) "
             "| new: compared on (seen by champion) |", "|---|---|---|---|---|---|---|"]
    side = {(r["side"], r["scenario"], r["cycle"]): r for r in rows}
    mark = (lambda x: f"{x['decision']} {'✓' if x['agrees'] else '✗'} ({x['truth']}, {x['gain']:+.4f})"
            if x and "agrees" in x else "-")
    for r in (r for r in rows if r["side"] == "new" and "truth" in r):
        b = side.get(("baseline", r["scenario"], r["cycle"]))
        lines.append(f"| {r['scenario']} | {r['cycle']} | {r['rows']} | {mark(b)} | {mark(r)} | "
                     f"{_scores(b)}, {_scores(r)} | {r['compared']} ({r['seen_by_champion']}) |")
    for name in ("baseline", "new"):
        judged = [r for r in rows if r["side"] == name and "agrees" in r]
        wrong = [r for r in judged if not r["agrees"]]
        lines.append(f"\n{name}: {len(judged) - len(wrong)} of {len(judged)} decisions agree with the "
                     f"never-seen rows; wrong promotions {sum(r['decision'] == 'promoted' for r in wrong)}, "
                     f"missed promotions {sum(r['decision'] != 'promoted' for r in wrong)}")
    return "\n".join(lines)


def _scores(row: dict | None) -> str:
    if not row or row.get("champion_score") is None:
        return "-"
    return f"{row['challenger_score']:.3f} / {row['champion_score']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE_REF)
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--scenarios", default="growing,shifting,recoded")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--table-from", help="print the table of an earlier --json, run nothing")
    args = parser.parse_args()
    if args.table_from:
        print(table(json.loads(Path(args.table_from).read_text())))
        return
    chosen = args.scenarios.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp:
        folder = Path(tmp)
        with harness.checkouts({"baseline": args.baseline, "new": args.new}, folder) as sides:
            rows = [r for side, code in sides.items() for r in run_side(code, side, folder, chosen)]
    print(f"\nbaseline {args.baseline}, new {args.new}; never-seen rows per scenario: {TRUTH_ROWS}\n")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
