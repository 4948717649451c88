"""automl against FLAML and AutoGluon at the same wall budget, scored here from each system's own
predictions on the same test rows.

- Peers run in their own virtual environment, created by this script on first use (default
  ``~/.cache/automl-bench/peers``): FLAML (``flaml[automl]``) and AutoGluon
  (``autogluon.tabular`` with LightGBM, CatBoost and XGBoost). They are never dependencies of
  automl.
- Every system gets the same table split (75/25, stratified for classes, seeded), the same wall
  budget for fitting and the same cores (``--cores``, default all); automl runs as a user runs it
  (``automl run --timeout T``, tracking on) and predicts with ``automl predict``.
- Scores: ROC AUC (binary), log loss (multiclass), RMSE (regression), computed here with
  scikit-learn from the prediction files. The table lists every run, then the mean rank of each
  system over the (table, seed) cells, wins/ties/losses of automl against each peer, failures,
  and the worst fit-wall/budget of each system.
- Tables come from ``benchmarks/_tables.py`` (public data shipped in PyPI packages); the data
  sets reserved for independent evaluation are refused there. The default is ``PEER_TABLES``,
  which the default portfolio was not learned on.

    python benchmarks/bench_vs_peers.py --budget 60 --seeds 0,1 --json /tmp/peers.json

- ``--variant NAME=ARGS`` adds automl with extra flags as one more system (e.g.
  ``tested=--no-refit-full``: the baseline measured in the same run).
- ``--show F.json`` prints the tables of an earlier run again (give its ``--variant`` names too).
- ``--reuse-peers F.json`` takes the peers' runs of an earlier ``--json`` file for the same
  table, seed and budget instead of running them again (the split is the same: same table and
  seed; the file's test-row digest is checked when it has one). Only automl changes between such
  runs, and the peers take about three quarters of the time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import _tables  # noqa: E402  (benchmarks/_tables.py: the public tables, reserved ones refused)

PEER_VENV = Path(os.environ.get("AUTOML_PEERS_VENV", Path.home() / ".cache" / "automl-bench" / "peers"))
PEER_PACKAGES = ["flaml[automl]>=2.3", "autogluon.tabular[lightgbm,catboost,xgboost]>=1.4"]
SYSTEMS = ("automl", "flaml", "ag_medium", "ag_best")
TIE = 1e-4  # relative score difference counted as a tie

# Runs inside the peers' environment: fit one system on train.csv within the budget, write the
# test rows' predictions (a column per class, or "prediction") and the fit's wall time.
PEER_RUNNER = r'''
import json, sys, time
import pandas as pd
system, train_csv, test_csv, target, task, budget, seed, cores, out = sys.argv[1:]
budget, seed, cores = float(budget), int(seed), int(cores)
train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
X, y = train.drop(columns=[target]), train[target]
started = time.monotonic()
if system == "flaml":
    from flaml import AutoML
    model = AutoML()
    model.fit(X, y, task="regression" if task == "regression" else "classification",
              time_budget=budget, n_jobs=cores, seed=seed, verbose=0)
    predict_proba, classes = model.predict_proba, None
else:
    from autogluon.tabular import TabularPredictor
    preset = {"ag_medium": "medium_quality", "ag_best": "best_quality"}[system]
    model = TabularPredictor(label=target, problem_type=task, verbosity=0,
                             path=out + ".ag").fit(train, time_limit=budget, presets=preset,
                                                    num_cpus=cores)
    predict_proba = lambda frame: model.predict_proba(frame).to_numpy()
    classes = list(model.class_labels) if task != "regression" else None
fit_s = time.monotonic() - started
if task == "regression":
    result = pd.DataFrame({"prediction": model.predict(test.drop(columns=[target]))})
else:
    proba = predict_proba(test.drop(columns=[target]))
    classes = classes if classes is not None else list(model.classes_)
    result = pd.DataFrame(proba, columns=[str(c) for c in classes])
result.to_csv(out, index=False)
json.dump({"fit_s": fit_s}, open(out + ".json", "w"))
'''


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def split(table: str, seed: int, folder: Path) -> tuple[Path, Path, str, str]:
    """The same train/test rows for every system, as CSV files."""
    from sklearn.model_selection import train_test_split

    frame, target = _tables.load(table)
    task = _tables.TABLES[table].task
    stratify = frame[target] if task != "regression" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)
    paths = folder / f"{table}-{seed}-train.csv", folder / f"{table}-{seed}-test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths[0], paths[1], target, task


def run_automl(train: Path, test: Path, target: str, budget: float, seed: int, cores: int,
               folder: Path, name: str = "automl", extra: tuple[str, ...] = ()) -> dict:
    work = folder / f"{name}-{train.stem}"
    work.mkdir()
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "automl", "run", "--data", str(train), "--target", target,
                               "--timeout", str(budget), "--seed", str(seed), "--n-jobs", str(cores),
                               "--workdir", str(work), "--summary-json", str(work / "s.json"), "--quiet",
                               *extra],
                              cwd=work, capture_output=True, text=True, timeout=3 * budget + 120)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {3 * budget + 120:.0f} s", "fit_s": time.monotonic() - started}
    fit_s = time.monotonic() - started
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-300:], "fit_s": fit_s}
    summary = json.loads((work / "s.json").read_text())
    model = summary["model_path"]
    ensemble, refit = summary.get("ensemble") or {}, summary.get("refit_full") or {}
    detail = (f"{sum(summary['n_trials'].values())} trials, "
              + (f"ensemble of {len(ensemble.get('kept_members') or ensemble['members'])}"
                 if ensemble.get("chosen") else summary["best_params"].get("model", "?"))
              + (f", refit on {refit['rows']} rows" if refit and "skipped" not in refit else ""))
    out = work / "pred.csv"
    predict = subprocess.run([sys.executable, "-m", "automl", "predict", "--model", model, "--data", str(test),
                              "--output", str(out), "--proba"], capture_output=True, text=True)
    if predict.returncode != 0:  # a regressor: values, not probabilities
        subprocess.run([sys.executable, "-m", "automl", "predict", "--model", model, "--data", str(test),
                        "--output", str(out)], check=True, capture_output=True)
    # Where the budget went, to explain a score: the phases' seconds, the ensemble's choice, the refit.
    facts = {"timings": summary.get("timings"), "ensemble": ensemble, "refit_full": refit}
    return {"predictions": str(out), "fit_s": fit_s, "detail": detail, "facts": facts}


def run_peer(python: Path, system: str, train: Path, test: Path, target: str, task: str, budget: float,
             seed: int, cores: int, folder: Path) -> dict:
    out = folder / f"{system}-{train.stem}.csv"
    try:
        proc = subprocess.run([str(python), "-c", PEER_RUNNER, system, str(train), str(test), target, task,
                               str(budget), str(seed), str(cores), str(out)],
                              cwd=folder, capture_output=True, text=True, timeout=3 * budget + 300)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {3 * budget + 300:.0f} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-300:]}
    return {"predictions": str(out), **json.loads(Path(f"{out}.json").read_text())}


def score(result: dict, test: Path, target: str, task: str) -> float | None:
    """ROC AUC, log loss or RMSE of a system's own predictions on the test rows."""
    from sklearn import metrics

    if "predictions" not in result:
        return None
    pred = pd.read_csv(result["predictions"])
    y = pd.read_csv(test)[target]
    if task == "regression":
        return float(np.sqrt(metrics.mean_squared_error(y, pred["prediction"])))
    labels = [str(c) for c in pred.columns]
    proba = pred.to_numpy(dtype=float)
    proba = proba / proba.sum(axis=1, keepdims=True)  # CSV rounding: rows sum to 1 +- 1e-7
    truth = y.astype(str)
    if task == "binary":
        return float(metrics.roc_auc_score(truth == labels[1], proba[:, 1]))
    return float(metrics.log_loss(truth, np.clip(proba, 1e-15, 1), labels=labels))


def ranks(cells: list[dict], systems: list[str] | None = None) -> dict[str, float]:
    """Mean rank of each system (of ``systems``, default all) over cells (1 = best; a failure
    ranks last)."""
    totals: dict[str, list] = {}
    for cell in cells:
        higher = cell["task"] == "binary"
        values = {s: v for s, v in cell["scores"].items() if systems is None or s in systems}
        worst = -np.inf if higher else np.inf
        ordered = pd.Series({s: worst if v is None else v for s, v in values.items()})
        for s, r in ordered.rank(ascending=not higher, method="average").items():
            totals.setdefault(s, []).append(r)
    return {s: float(np.mean(v)) for s, v in totals.items() if v}


def versus(cells: list[dict], peer: str, ours: str = "automl") -> tuple[int, int, int]:
    wins = ties = losses = 0
    for cell in cells:
        mine, theirs = cell["scores"].get(ours), cell["scores"].get(peer)
        if mine is None or theirs is None:
            losses += mine is None and theirs is not None
            wins += theirs is None and mine is not None
            continue
        better = mine > theirs if cell["task"] == "binary" else mine < theirs
        if abs(mine - theirs) <= TIE * max(abs(theirs), 1e-12):
            ties += 1
        elif better:
            wins += 1
        else:
            losses += 1
    return wins, ties, losses


def print_table(cells: list[dict], budget: float, systems: list[str], ours: list[str] = ("automl",)) -> None:
    """Every run, then each of ``ours`` (automl and its variants) ranked against the peers alone:
    the variants are baselines, not competitors of each other."""
    print(f"\n| table | seed | metric | {' | '.join(systems)} |")
    print("|---|---:|---|" + "---:|" * len(systems))
    for c in cells:
        metric = {"binary": "roc_auc ^", "multiclass": "log_loss v", "regression": "rmse v"}[c["task"]]
        values = " | ".join("failed" if c["scores"].get(s) is None else f"{c['scores'][s]:.4g}"
                            for s in systems)
        print(f"| {c['table']} | {c['seed']} | {metric} | {values} |")
    peers = [s for s in systems if s not in ours]
    for mine in (s for s in systems if s in ours):
        field = [mine, *peers]
        print(f"\nwith {mine}: mean rank (1 = best)")
        for label, part in (("all", cells), ("classification", [c for c in cells if c["task"] != "regression"]),
                            ("regression", [c for c in cells if c["task"] == "regression"])):
            mean = ranks(part, field)
            if mean:
                print(f"  {label} ({len(part)} runs): " + ", ".join(f"{s} {mean[s]:.2f}" for s in field))
        for peer in peers:
            print(f"  {mine} vs {peer}: wins/ties/losses {'/'.join(map(str, versus(cells, peer, mine)))}")
    for s in systems:
        walls = [c["fit_s"][s] / budget for c in cells if c["fit_s"].get(s) is not None]
        failed = sum(c["scores"].get(s) is None for c in cells)
        print(f"{s}: failed runs {failed}, worst fit wall/budget {max(walls) if walls else float('nan'):.3f}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def reused_peers(files: list[str], budget: float) -> dict[tuple[str, int], dict]:
    """(table, seed) -> an earlier cell, from ``--json`` files of runs at the same budget."""
    cells = {}
    for file in files:
        for cell in json.loads(Path(file).read_text()):
            if cell.get("budget", budget) == budget:
                cells[(cell["table"], cell["seed"])] = cell
    return cells


def run_system(system, python, variants, train, test, target, task, budget, seed, cores, folder):
    if system == "automl" or system in variants:
        return run_automl(train, test, target, budget, seed, cores, folder, system,
                          tuple(variants.get(system, "").split()))
    return run_peer(python, system, train, test, target, task, budget, seed, cores, folder)


def from_earlier(earlier: dict | None, system: str, test_digest: str) -> dict | None:
    """An earlier run of a peer on the same split, as ``score`` and ``fit_s``; None if absent."""
    if earlier is None or system not in earlier["scores"]:
        return None
    if earlier.get("test_digest", test_digest) != test_digest:
        raise SystemExit(f"--reuse-peers: {earlier['table']} seed {earlier['seed']} was split differently")
    return {"score": earlier["scores"][system], "fit_s": earlier["fit_s"].get(system),
            "error": earlier.get("errors", {}).get(system), "detail": "reused"}


def variant(text: str) -> tuple[str, str]:
    name, sep, flags = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=FLAGS, e.g. tested=--no-refit-full")
    return name, flags


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", help="comma-separated names from benchmarks/_tables.py "
                        "(default: _tables.PEER_TABLES)")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--json", help="also write every run here")
    parser.add_argument("--variant", action="append", default=[], type=variant,
                        help="NAME=ARGS: automl with these extra flags as the system NAME")
    parser.add_argument("--show", help="print the tables of an earlier --json file; run nothing")
    parser.add_argument("--reuse-peers", action="append", default=[],
                        help="an earlier --json file whose peer runs (same table, seed, budget) are reused")
    args = parser.parse_args(argv)
    variants = dict(args.variant)
    systems = args.systems.split(",") + [v for v in variants if v not in args.systems.split(",")]
    ours = ["automl", *variants]
    if args.show:
        cells = json.loads(Path(args.show).read_text())
        shown = [s for s in systems if any(s in c["scores"] for c in cells)]
        print_table(cells, args.budget, shown, ours)
        return
    earlier_cells = reused_peers(args.reuse_peers, args.budget)
    python = ensure_peer_venv() if set(systems) - {"automl"} - set(variants) else None
    tables = args.tables.split(",") if args.tables else list(_tables.PEER_TABLES)
    cells = []
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        folder = Path(tmp)
        for table in tables:
            for seed in map(int, args.seeds.split(",")):
                train, test, target, task = split(table, seed, folder)
                cell = {"table": table, "seed": seed, "task": task, "budget": args.budget,
                        "test_digest": digest(test), "scores": {}, "fit_s": {}, "errors": {}}
                for system in systems:
                    reused = None if system == "automl" or system in variants else \
                        from_earlier(earlier_cells.get((table, seed)), system, cell["test_digest"])
                    result = reused or run_system(system, python, variants, train, test, target, task,
                                                  args.budget, seed, args.cores, folder)
                    cell["scores"][system] = result["score"] if reused else score(result, test, target, task)
                    cell["fit_s"][system] = result.get("fit_s")
                    if result.get("error"):
                        cell["errors"][system] = result["error"]
                    if "detail" in result:
                        cell.setdefault("details", {})[system] = result["detail"]
                    if "facts" in result:
                        cell.setdefault("facts", {})[system] = result["facts"]
                    print(f"{table} seed {seed} {system}: {cell['scores'][system]} "
                          f"({result.get('fit_s') or float('nan'):.1f} s) {result.get('detail', '')}"
                          f"{(result.get('error') or '')[:120]}", flush=True)
                cells.append(cell)
                if args.json:  # after every cell: a long run stopped midway keeps what it measured
                    Path(args.json).write_text(json.dumps(cells, indent=1))
    print_table(cells, args.budget, systems, ours)


if __name__ == "__main__":
    main()
