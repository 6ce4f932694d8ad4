"""Tests for njforecast.evaluation.backtest and the `njforecast backtest`/`run` commands: cutoffs, the cv
frame, no look-ahead for every model, determinism, input errors (exit 2), MLflow runs.

Synthetic observations (labelled) are built here: hand-made provinces with births, entrants,
enrolment and teachers, so every model (structural, global, auto) has what it needs.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from njforecast.evaluation import backtest as B
from njforecast import schema as S
from njforecast.cli import app
from njforecast.models import ensemble

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def synthetic_obs(areas=("510000", "420000", "430000"), last=2019) -> pd.DataFrame:
    """Synthetic (not real) province series (births from 1985) with fixed, seeded noise."""
    rng = np.random.default_rng(7)
    rows = []
    for k, area in enumerate(areas):
        yrs = np.arange(1985, last + 1)
        births = 1e5 * (1 + 0.1 * k) * np.exp(-0.02 * (yrs - 1985))
        b = dict(zip(yrs.tolist(), births * (1 + 0.02 * rng.standard_normal(len(yrs))),
                     strict=True))
        for yr, v in b.items():
            rows.append((area, yr, "births", float(v), "persons"))
        for yr in range(2000, last + 1):
            ent = 0.95 * b[yr - 6] * (1 + 0.01 * rng.standard_normal())
            enr = 0.97 * sum(b[yr - lag] for lag in range(6, 12))
            rows.append((area, yr, "primary_entrants", ent, "persons"))
            rows.append((area, yr, "primary_enrolment", enr, "persons"))
            rows.append((area, yr, "primary_teachers", enr / (18 + 0.1 * (yr - 2000)), "persons"))
            rows.append((area, yr, "primary_net_enrolment_pct",
                         min(99.9, 90 + 0.5 * (yr - 2000) + rng.standard_normal() * 0.2),
                         "percent"))
    df = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.UNIT])
    counts = df[S.UNIT] == "persons"
    df.loc[counts, S.VALUE] = df.loc[counts, S.VALUE].round()  # counts are whole persons
    return df


@pytest.fixture(scope="module", autouse=True)
def _processed_data(processed):
    """Reading a user file validates its areas against data/processed (built once per session)."""
    return processed


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite MLflow store for this module's tracking tests (distinct experiment names)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


FAST = ["naive", "drift", "mean", "theta", "ets", "autoets", "arima", "global", "structural",
        "combo"]


def test_cutoffs_formula():
    """Series ending 2019, H=5, W=3 → cutoffs 2012, 2013, 2014 (T−H−W+1 … T−H)."""
    assert B.cutoffs_for(2019, 5, 3) == [2012, 2013, 2014]


def test_cv_frame_columns_rows_and_actuals():
    """cv has the issue's columns; rows = series × windows × H × models; actuals are the data."""
    obs = synthetic_obs()
    cv, fb = B.cross_validation(obs, ["primary_enrolment"], ["naive", "drift"], h=3, windows=2)
    assert list(cv.columns) == list(S.CV_COLUMNS)
    assert len(cv) == 3 * 2 * 3 * 2 and not fb
    assert sorted(cv[S.CUTOFF].unique()) == [2015, 2016]
    row = cv[(cv[S.AREA] == "510000") & (cv[S.CUTOFF] == 2015) & (cv[S.H] == 2)].iloc[0]
    truth = obs[(obs[S.AREA] == "510000") & (obs[S.INDICATOR] == "primary_enrolment")
                & (obs[S.YEAR] == 2017)][S.VALUE].iloc[0]
    assert row[S.YEAR] == 2017 and row[S.ACTUAL] == truth
    naive = cv[(cv[S.MODEL] == "naive") & (cv[S.AREA] == "510000") & (cv[S.CUTOFF] == 2015)]
    last = obs[(obs[S.AREA] == "510000") & (obs[S.INDICATOR] == "primary_enrolment")
               & (obs[S.YEAR] == 2015)][S.VALUE].iloc[0]
    assert (naive[S.FORECAST] == last).all()


def _alter_after(obs, year):
    out = obs.copy()
    late = out[S.YEAR] > year
    out.loc[late, S.VALUE] = out.loc[late, S.VALUE] * 3.0 + 17.0
    return out


@pytest.mark.parametrize("indicator", ["primary_enrolment"])
def test_no_look_ahead_for_every_model_including_auto(indicator):
    """For every cutoff c: changing every value after c (all series, all indicators) leaves
    the forecasts made at c unchanged, for every model including auto (forecast cache
    cleared between runs) — so even a one-year leak at the earliest cutoff would fail."""
    obs = synthetic_obs(areas=("510000", "420000"))
    models = [*FAST, "auto"]
    kw = dict(indicators=[indicator], models=models, h=3, windows=2, areas=["510000"])
    ensemble._CACHE.clear()
    cv1, _ = B.cross_validation(obs, **kw)
    cols = [S.FORECAST, S.LO80, S.HI80, S.LO95, S.HI95]
    for c in sorted(cv1[S.CUTOFF].unique()):
        ensemble._CACHE.clear()
        cv2, _ = B.cross_validation(_alter_after(obs, int(c)), **kw)
        a = cv1[cv1[S.CUTOFF] == c].reset_index(drop=True)
        b = cv2[cv2[S.CUTOFF] == c].reset_index(drop=True)
        pd.testing.assert_frame_equal(a[[S.MODEL, S.H, *cols]], b[[S.MODEL, S.H, *cols]])
        # and the alteration did reach the data the back-test reads (the test can fail)
        assert not np.allclose(a[S.ACTUAL], b[S.ACTUAL])


def test_no_look_ahead_prophet_one_window():
    """Prophet too: altering data after the cutoff leaves its forecast unchanged."""
    obs = synthetic_obs(areas=("510000",))
    kw = dict(indicators=["primary_enrolment"], models=["prophet"], h=2, windows=1,
              model_options={"prophet": {"uncertainty_samples": 30}})
    ensemble._CACHE.clear()
    cv1, _ = B.cross_validation(obs, **kw)
    ensemble._CACHE.clear()
    cv2, _ = B.cross_validation(_alter_after(obs, 2017), **kw)
    pd.testing.assert_series_equal(cv1[S.FORECAST], cv2[S.FORECAST])


def test_models_never_receive_data_after_the_cutoff(monkeypatch):
    """The X and y handed to fit() end at the cutoff (a spy records their last years)."""
    from njforecast.models import baselines

    seen = []
    orig = baselines.Naive._fit

    def spy(self, y, X=None):
        seen.append((int(y.index[-1]), None if X is None else int(X[S.YEAR].max())))
        return orig(self, y, X)

    monkeypatch.setattr(baselines.Naive, "_fit", spy)
    ensemble._CACHE.clear()
    B.cross_validation(synthetic_obs(), ["primary_enrolment"], ["naive"], h=2, windows=3)
    assert seen and all(xmax is None or xmax <= ylast for ylast, xmax in seen)
    assert sorted({ylast for ylast, _ in seen}) == [2015, 2016, 2017]


def test_same_input_same_numbers():
    """Two runs on the same data give identical cv frames (determinism)."""
    obs = synthetic_obs(areas=("510000",))
    ensemble._CACHE.clear()
    a, _ = B.cross_validation(obs, ["primary_teachers"], ["auto", "global"], h=2, windows=2)
    ensemble._CACHE.clear()
    b, _ = B.cross_validation(obs, ["primary_teachers"], ["auto", "global"], h=2, windows=2)
    pd.testing.assert_frame_equal(a, b)


def test_fits_record_what_each_fit_chose():
    """fits has one row per (series, cutoff, model, fitted attribute): auto's rule is the
    cohort flow for enrolment (entrants exist) and stacking for teachers, whose weights by lead
    parse and sum to 1 at every lead of every fit (convex stacking weights), and every cutoff
    of the cv frame has its fits."""
    obs = synthetic_obs()
    res = B.run_backtest(obs, ["primary_enrolment", "primary_teachers"], ["naive", "auto"], h=2,
                         windows=2, areas=["510000", "420000"])
    f = res.fits
    assert list(f.columns) == list(S.FIT_COLUMNS)
    keys = [S.AREA, S.INDICATOR, S.CUTOFF, S.MODEL]
    assert set(map(tuple, f[keys].drop_duplicates().to_numpy())) == \
        set(map(tuple, res.cv[keys].drop_duplicates().to_numpy()))
    rule = f[(f[S.MODEL] == "auto") & (f[S.PARAM] == "rule_")].set_index(S.INDICATOR)[S.VALUE]
    assert set(rule["primary_enrolment"]) == {"cohortflow"}
    assert set(rule["primary_teachers"]) == {"stack"}
    w = f[(f[S.MODEL] == "auto") & (f[S.PARAM] == "weights_by_lead_")]
    assert len(w) == 4  # teachers: 2 areas × 2 cutoffs
    assert all("cohortflow=" in text for text in w[S.VALUE])  # the teacher flow is a member
    for text in w[S.VALUE]:
        for lead in text.split(";"):
            ws = [float(x.split("=")[1]) for x in lead.split(":", 1)[1].split(",")]
            assert sum(ws) == pytest.approx(1.0, abs=2e-3) and min(ws) >= 0


def test_too_short_series_is_a_clear_error():
    """H + W beyond the data → ValueError saying how many years are needed."""
    obs = synthetic_obs(areas=("510000",))
    with pytest.raises(ValueError, match="at least"):
        B.cross_validation(obs, ["primary_enrolment"], ["naive"], h=18, windows=1)


def _write(df, path):
    df.to_csv(path, index=False)
    return path


def test_cli_backtest_writes_outputs_and_prints_table(tmp_path):
    """The command writes cv.csv/metrics.csv and prints the MAPE-by-lead table."""
    f = _write(synthetic_obs(), tmp_path / "obs.csv")
    out = tmp_path / "out"
    r = runner.invoke(app, ["backtest", "--observations", str(f), "--indicator",
                            "primary_enrolment", "--horizon", "2", "--windows", "2",
                            "--models", "naive,drift", "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert "MAPE (%) by lead — primary_enrolment" in r.output
    cv = pd.read_csv(out / "cv.csv", dtype={S.AREA: str})
    assert list(cv.columns) == list(S.CV_COLUMNS)
    m = pd.read_csv(out / "metrics.csv")
    assert set(m["model"]) == {"naive", "drift"}


@pytest.mark.parametrize("args, msg", [
    (["--indicator", "nonexistent"], "not in the observations"),
    (["--indicator", "primary_enrolment", "--area", "999999"], "999999"),
    (["--indicator", "primary_enrolment", "--models", "magic"], "unknown model"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, args, msg):
    """Unknown indicator, area or model: 'error: …' naming it, exit status 2, no traceback."""
    f = _write(synthetic_obs(), tmp_path / "obs.csv")
    r = runner.invoke(app, ["backtest", "--observations", str(f), "--output", str(tmp_path / "o"),
                            "--horizon", "2", "--windows", "1", *args])
    assert r.exit_code == 2
    assert msg in r.output and "Traceback" not in r.output


def test_cli_reads_raw_slug_format_and_other_columns(tmp_path):
    """The raw bundled format (slug areas, source columns, duplicates) is read with codes out;
    a codes file with an extra column and a non-number names file, row 5 and the column."""
    raw = REPO / "data" / "raw" / "observed" / "china_provinces_education.csv"
    obs = B.read_observations_file(raw)
    assert not obs.duplicated([S.AREA, S.YEAR, S.INDICATOR]).any()
    assert "510000" in set(obs[S.AREA]) and "sichuan" not in set(obs[S.AREA])
    # a codes file with an extra column and a row that is not a number
    df = synthetic_obs(areas=("510000",)).assign(comment="x")
    df[S.VALUE] = df[S.VALUE].astype(object)
    df.loc[3, S.VALUE] = "n/a"
    f = _write(df, tmp_path / "bad.csv")
    r = runner.invoke(app, ["backtest", "--observations", str(f), "--indicator",
                            "primary_enrolment", "--output", str(tmp_path / "o")])
    assert r.exit_code == 2 and "bad.csv:5:value" in r.output and "n/a" in r.output


def test_run_experiment_config_tracks_parent_and_nested_runs(tmp_path, store):
    """`njforecast run` on a [backtest] config writes outputs and logs a parent + nested runs."""
    tracking_uri = store
    f = _write(synthetic_obs(), tmp_path / "obs.csv")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'name = "t-exp"\noutput_dir = "{tmp_path / "out"}"\n'
                   f'tracking_uri = "{tracking_uri}"\n[backtest]\nobservations = "{f}"\n'
                   'indicators = ["primary_enrolment"]\nhorizon = 2\nwindows = 2\n'
                   'models = ["naive", "drift"]\n', encoding="utf-8")
    r = runner.invoke(app, ["run", str(cfg)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "cv.csv").is_file()
    from njforecast.tracking import list_runs

    runs = list_runs("t-exp", tracking_uri)
    assert sorted(runs["run_name"]) == ["drift", "naive", "t-exp"]
    assert set(runs["status"]) == {"FINISHED"}
    parent = runs.loc[runs["run_name"] == "t-exp", "run_id"].iloc[0]
    assert set(runs.loc[runs["run_name"] != "t-exp", "parent_run_id"]) == {parent}
    # every metric of metrics.csv, n_missing included, is on the model's nested run
    import mlflow

    child = runs.loc[runs["run_name"] == "naive", "run_id"].iloc[0]
    got = mlflow.MlflowClient(tracking_uri).get_run(child).data.metrics
    assert got["primary_enrolment.n_missing_h1"] == 0
    assert "fits.csv" in {x.path for x in mlflow.MlflowClient(tracking_uri).list_artifacts(
        parent)}
    assert (tmp_path / "out" / "fits.csv").is_file()
    assert {"mape_h2", "coverage80_hall", "winkler95_h1"} <= {k.split(".", 1)[1] for k in got}


def test_run_experiment_failure_marks_run_failed(tmp_path, store):
    """A bad [backtest] (unknown indicator) exits 2 and leaves the MLflow run FAILED."""
    tracking_uri = store
    f = _write(synthetic_obs(), tmp_path / "obs.csv")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'name = "t-fail"\noutput_dir = "{tmp_path / "out"}"\n'
                   f'tracking_uri = "{tracking_uri}"\n[backtest]\nobservations = "{f}"\n'
                   'indicators = ["nope"]\nhorizon = 2\nwindows = 2\n', encoding="utf-8")
    r = runner.invoke(app, ["run", str(cfg)])
    assert r.exit_code == 2 and "not in the observations" in r.output
    from njforecast.tracking import list_runs

    runs = list_runs("t-fail", tracking_uri)
    assert list(runs["status"]) == ["FAILED"]
    assert not (tmp_path / "out" / "cv.csv").exists()


def test_four_concurrent_backtests_one_sqlite_store(tmp_path, store):
    """Four back-tests started at once against one SQLite store all finish and are recorded."""
    tracking_uri = store
    from njforecast.tracking import ensure_experiment, list_runs

    f = _write(synthetic_obs(), tmp_path / "obs.csv")
    ensure_experiment("par", tracking_uri)  # created before the workers start
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "njforecast", "backtest", "--observations", str(f),
         "--indicator", ind, "--horizon", "2", "--windows", "2", "--models", "naive,drift",
         "--output", str(tmp_path / f"o{i}"), "--tracking-uri", tracking_uri,
         "--experiment", "par"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i, ind in enumerate(["primary_enrolment", "primary_entrants", "primary_teachers",
                                 "births"])]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outs]
    runs = list_runs("par", tracking_uri)
    assert len(runs) == 4 * 3  # 4 parents + 2 nested each
    assert set(runs["status"]) == {"FINISHED"}
    assert runs["parent_run_id"].isna().sum() == 4
