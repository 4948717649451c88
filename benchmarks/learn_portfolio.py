"""Learn the default space's portfolio: configurations tried first, chosen offline on public data.

The procedure (greedy portfolio selection, as in FLAML's zero-shot AutoML and TabRepo):

1. Candidates, per task block (classification, regression): the space's cheap baselines and
   ``--candidates`` configurations drawn at random from the space (seeded).
2. Each candidate is cross-validated (3 folds, automl's own fold code and default metric) on every
   table of ``benchmarks/_tables.py`` for that task, each table cut to ``--max-rows`` rows.
   Tables reserved for independent evaluation are refused by that module, and the tables the peer
   benchmark scores (``_tables.PEER_TABLES``) are left out, so that benchmark sees unseen tables.
3. Scores become normalised errors per table: 0 for the table's best candidate, 1 for its median
   candidate, capped at ``CAP`` (failures count as ``CAP``).
4. Greedy selection: start from the baselines (a fresh study runs them first anyway), add the
   candidate that lowers most the mean over tables of the best normalised error among those run,
   ``--size`` times.
5. The chosen ones are written, cheapest first (mean fit time), as the space's ``portfolio:``
   block, which ``automl validate-space`` checks and a user may edit.

Same arguments, same output: every random draw is seeded. ``--json`` keeps the raw score matrix;
``--reuse`` that file repeats steps 3-5 without fitting anything again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import optuna

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import _tables  # noqa: E402  (benchmarks/_tables.py: the public tables, reserved ones refused)

from automl.plan import time_limit  # noqa: E402
from automl.data import prepare  # noqa: E402
from automl.metrics import get_metric  # noqa: E402
from automl.search import fit_and_score  # noqa: E402
from automl.trial import TrialSpec  # noqa: E402
from automl.space import baseline_trials, load_space, validate_file  # noqa: E402
from automl.split import Split, cv_folds  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
CAP = 5.0  # normalised error of a failed run, and the most any one table can weigh
GRACE = 5.0  # seconds past a candidate's folds' limits before its process is killed
FOLDS = 3
SEED = 0
BLOCK_TASKS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}


def candidates(space_file: str, block: str, n: int) -> list[dict]:
    """Optuna parameters of the baselines and ``n`` seeded random draws from the space."""
    task = BLOCK_TASKS[block][0]
    space = load_space(space_file, task)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=SEED))
    drawn = []
    for _ in range(n):
        trial = study.ask()
        space.suggest(trial)
        drawn.append(dict(trial.params))
    unique = {json.dumps(p, sort_keys=True): p for p in baseline_trials(space) + drawn}
    return list(unique.values())


def evaluate(table: str, configs: list[dict], max_rows: int, seconds: float) -> list[dict]:
    """Mean CV score and fit time of each configuration on one table (None when it failed)."""
    frame, target = _tables.load(table)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=SEED)
    data = prepare(frame.reset_index(drop=True), target, _tables.TABLES[table].task, table)
    metric = get_metric(data.task, None)
    whole = Split(data.X, data.y, data.X.iloc[:0], data.y.iloc[:0], None, "")
    folds = cv_folds(whole, data.task, FOLDS, SEED, time_ordered=False)
    return [_killable_cv(config, data, metric, folds, seconds) for config in configs]


def _killable_cv(config: dict, data, metric, folds, seconds: float) -> dict:
    """``_cv`` in a forked child, killed past a hard limit: the in-process time limit reaches only
    fits that check it, and one linear-kernel SVR inside libsvm once ran for 25 minutes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=lambda: send.send(_cv(config, data, metric, folds, seconds)))
    child.start()
    send.close()
    hard = FOLDS * seconds + GRACE
    try:
        if receive.poll(hard):
            return receive.recv()
        return {"score": None, "fit_s": None, "error": f"killed after {hard:.0f} s"}
    except EOFError:  # the child died without an answer (e.g. out of memory)
        return {"score": None, "fit_s": None, "error": f"the fold process died ({child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()


def _cv(config: dict, data, metric, folds, seconds: float) -> dict:
    spec = _spec(config)
    scores, fit = [], 0.0
    try:
        for train, valid in folds:
            pipe = spec.build(data.task, data.columns_by_kind, SEED)
            with time_limit(time.monotonic() + seconds), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score, elapsed, *_ = fit_and_score(pipe, data.X, data.y, train, valid, metric)
            scores.append(score)
            fit += elapsed
    except Exception as exc:  # a failed candidate is a data point (CAP), not a failed run
        return {"score": None, "fit_s": None, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"score": float(np.mean(scores)), "fit_s": fit / len(folds),
            "maximize": metric.direction == "maximize"}


def _spec(config: dict) -> TrialSpec:
    family = config["model"]
    model = {k.split(".", 1)[1]: v for k, v in config.items() if k.startswith(f"{family}.")}
    prep = {k.split(".", 1)[1]: v for k, v in config.items() if k.startswith("prep.")}
    return TrialSpec(family, model, prep)


def normalised_errors(results: list[list[dict]]) -> np.ndarray:
    """Tables x candidates: 0 at a table's best, 1 at its median, ``CAP`` for failures."""
    errors = np.full((len(results), len(results[0])), CAP)
    for t, row in enumerate(results):
        ok = [r for r in row if r["score"] is not None]
        if not ok:
            continue
        sign = 1.0 if ok[0]["maximize"] else -1.0
        values = np.array([sign * r["score"] if r["score"] is not None else np.nan for r in row])
        best, median = np.nanmax(values), np.nanmedian(values)
        spread = max(best - median, 1e-12)
        errors[t] = np.where(np.isnan(values), CAP, np.minimum((best - values) / spread, CAP))
    return errors


def greedy(errors: np.ndarray, size: int, start: tuple[int, ...] = ()) -> list[int]:
    """Indices of candidates chosen one at a time to lower the mean best error the most, after
    ``start`` (candidates that run anyway, e.g. the space's baselines: never chosen again)."""
    chosen: list[int] = []
    current = errors[:, list(start)].min(axis=1) if start else np.full(errors.shape[0], np.inf)
    alone = errors.mean(axis=0)
    for _ in range(min(size, errors.shape[1] - len(start))):
        gains = np.array([np.mean(np.minimum(current, errors[:, c])) if c not in chosen and c not in start
                          else np.inf for c in range(errors.shape[1])])
        # Once every table has its best candidate, gains tie at 0: then the candidate that is best
        # on its own across tables, a robust default for tables unlike those seen.
        tied = np.flatnonzero(gains <= gains.min() + 1e-12)
        pick = int(tied[np.argmin(alone[tied])])
        chosen.append(pick)
        current = np.minimum(current, errors[:, pick])
    return chosen


def entry(config: dict) -> dict:
    family = config["model"]
    out: dict = {"model": family}
    params = {k.split(".", 1)[1]: _tidy(v) for k, v in config.items() if k.startswith(f"{family}.")}
    prep = {k.split(".", 1)[1]: _tidy(v) for k, v in config.items() if k.startswith("prep.")}
    if params:
        out["params"] = params
    if prep:
        out["prep"] = prep
    return out


def _tidy(value):
    # Four significant digits read better and stay inside the space (a draw never sits on a bound).
    return float(f"{value:.4g}") if isinstance(value, float) else value


def write_portfolio(space_file: Path, portfolios: dict[str, list[dict]], header: str) -> None:
    """Replace the ``portfolio:`` block (kept last in the file) with the learned one."""
    import yaml

    text = space_file.read_text()
    marker = "\n# --- portfolio"
    text = text.split(marker)[0].rstrip() + "\n"
    block = yaml.safe_dump({"portfolio": portfolios}, sort_keys=False, default_flow_style=None, width=110)
    space_file.write_text(text + marker + header + block)
    problems = validate_file(str(space_file))
    if problems:  # e.g. a value rounded onto the far side of a bound: say so, do not ship it
        raise SystemExit(f"{space_file}: the written portfolio does not validate: {problems[:3]}")


def learn(block: str, args, reused: dict | None = None) -> tuple[list[dict], dict]:
    if reused is None:
        configs = candidates(args.space, block, args.candidates)
        tables, results = evaluate_all(block, configs, args)
    else:
        configs, tables, results = reused["configs"], reused["tables"], reused["results"]
    baselines = baseline_trials(load_space(args.space, BLOCK_TASKS[block][0]))
    start = tuple(i for i, c in enumerate(configs) if c in baselines)
    errors = normalised_errors(results)
    chosen = greedy(errors, args.size, start)
    cost = {c: np.nanmean([r[c]["fit_s"] if r[c]["fit_s"] is not None else np.nan for r in results])
            for c in chosen}
    ordered = sorted(chosen, key=lambda c: cost[c])
    print(f"{block}: {len(tables)} tables, {len(configs)} candidates; mean best normalised error of "
          f"all {errors.min(axis=1).mean():.3f}, of the baselines alone "
          f"{errors[:, list(start)].min(axis=1).mean():.3f}, with the {len(chosen)} chosen "
          f"{errors[:, [*start, *chosen]].min(axis=1).mean():.3f}")
    raw = {"tables": tables, "configs": configs, "results": results, "chosen": ordered}
    return [entry(configs[c]) for c in ordered], raw


def evaluate_all(block: str, configs: list[dict], args) -> tuple[list[str], list[list[dict]]]:
    tables = [n for n, t in _tables.TABLES.items()
              if t.task in BLOCK_TASKS[block] and t.learn and n not in _tables.PEER_TABLES]
    if args.tables:
        asked = args.tables.split(",")
        if set(asked) & set(_tables.PEER_TABLES):
            raise SystemExit(f"--tables: {sorted(set(asked) & set(_tables.PEER_TABLES))} are scored "
                             "against the peers and never learned from (_tables.PEER_TABLES)")
        tables = [t for t in tables if t in asked]
    # Tables in parallel processes (each fit on one core): the score matrix does not depend on it.
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(evaluate, name, configs, args.max_rows, args.trial_seconds) for name in tables]
        results = []
        for name, future in zip(tables, futures):
            results.append(future.result())
            print(f"{block} {name}: {len(configs)} candidates done", flush=True)
    return tables, results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "default.yaml"))
    parser.add_argument("--candidates", type=int, default=120)
    parser.add_argument("--size", type=int, default=25)
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--trial-seconds", type=float, default=20.0)
    parser.add_argument("--tables", help="comma-separated subset of benchmarks/_tables.py")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="tables at once")
    parser.add_argument("--json", help="also write the raw score matrix here")
    parser.add_argument("--reuse", help="a --json file of an earlier run: select again, fit nothing")
    args = parser.parse_args(argv)
    reused = json.loads(Path(args.reuse).read_text()) if args.reuse else {}
    portfolios, raw = {}, {}
    for block in BLOCK_TASKS:
        portfolios[block], raw[block] = learn(block, args, reused.get(block))
    if args.json:  # first: an hour of fitting is kept even if the portfolio does not validate
        Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    drawn = len(raw["classification"]["configs"])
    header = (f": learned {date.today()} by benchmarks/learn_portfolio.py ({drawn} candidates with the"
              f" baselines, --size {args.size}, --max-rows {args.max_rows})\n# on"
              f" {len(raw['classification']['tables'])} classification and {len(raw['regression']['tables'])}"
              f" regression tables; tried in this order after the baselines; edit freely\n")
    write_portfolio(Path(args.space), portfolios, header)


if __name__ == "__main__":
    main()
