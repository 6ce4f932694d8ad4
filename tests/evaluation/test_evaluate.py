"""Tests for njforecast.evaluation.evaluate and ``njforecast evaluate``.

The hand-computed cases use a SYNTHETIC region (area "990000", population windows and
observations invented for the test, labelled as such); the no-look-ahead and bad-input tests use
the bundled census and the bundled provincial file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from njforecast import schema as S
from njforecast.cli import app
from njforecast.config import raw_dir
from njforecast.evaluation import evaluate as ev

runner = CliRunner()
BUNDLED = raw_dir() / "observed" / "china_provinces_education.csv"

# --- synthetic region: population windows and observations invented for the test -------------

SYN = "990000"


def _obs(rows):
    return pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])


def _windows(D=3):
    """Persons by window (area, year 2010..2012, d): the same in every draw (synthetic)."""
    base = {(6, 11): [500.0, 550.0, 450.0], (3, 5): [100.0, 110.0, 120.0],
            (0, 100): [1000.0, 1000.0, 1000.0]}
    return {w: np.repeat(np.array(v)[None, :, None], D, axis=2) for w, v in base.items()}


def test_hand_computed_rows_synthetic_region():
    obs = _obs([
        (SYN, 2010, "primary_enrolment", 1000.0), (SYN, 2011, "primary_enrolment", 1080.0),
        (SYN, 2012, "primary_enrolment", 950.0),
        (SYN, 2010, "primary_teachers", 50.0), (SYN, 2012, "primary_teachers", 40.0),
        (SYN, 2005, "preschool_ger_pct", 50.0), (SYN, 2010, "preschool_ger_pct", 60.0),
        (SYN, 2010, "kindergarten_children", 300.0),
        (SYN, 2011, "kindergarten_children", 330.0),
        (SYN, 2009, "primary_enrolment", 1.0),  # before J: never scored
        (SYN, 2011, "junior_enrolment", 7.0),  # no value in J: never scored
    ])
    # σ = 0: every draw is the central path; φ = 0.5
    table, _ = ev.forecast_rows(obs, [SYN], 2010, 2012, _windows(), (0.5, 0.0), 3, 7)
    got = table.set_index([S.INDICATOR, S.YEAR])
    # primary: E(J) · P(t)/P(J), rate held (primary has no GER path)
    assert got.loc[("primary_enrolment", 2011), S.MEAN] == pytest.approx(1000 * 550 / 500)
    assert got.loc[("primary_enrolment", 2012), S.MEAN] == pytest.approx(1000 * 450 / 500)
    assert got.loc[("primary_enrolment", 2012), S.H] == 2
    assert got.loc[("primary_enrolment", 2012), "naive"] == 1000
    assert got.loc[("primary_enrolment", 2012), S.ACTUAL] == 950
    # teachers: E(t) / (pupils per teacher at J = 20)
    assert got.loc[("primary_teachers", 2012), S.MEAN] == pytest.approx(900 / 20)
    # kindergarten: 300 · 110/100 · G(2011)/G(2010), G(2011) = 60 + 2·0.5 (slope 2 a year)
    assert got.loc[("kindergarten_children", 2011), S.MEAN] == pytest.approx(
        300 * 1.1 * 61 / 60)
    assert set(table[S.YEAR]) == {2011, 2012}
    assert "junior_enrolment" not in set(table[S.INDICATOR])
    assert len(table) == 4
    # no spread in the synthetic draws: the intervals collapse on the mean
    assert np.allclose(table[S.LO80], table[S.MEAN]) and np.allclose(table[S.HI95], table[S.MEAN])


def test_rates_held_without_trend_parameters_synthetic():
    obs = _obs([(SYN, 2005, "preschool_ger_pct", 50.0), (SYN, 2010, "preschool_ger_pct", 60.0),
                (SYN, 2011, "preschool_ger_pct", 64.0),
                (SYN, 2010, "kindergarten_children", 300.0),
                (SYN, 2012, "kindergarten_children", 330.0)])
    table, notes = ev.forecast_rows(obs, [SYN], 2010, 2012, _windows(), None, 3, 7)
    got = table.set_index([S.INDICATOR, S.YEAR])
    assert got.loc[("kindergarten_children", 2012), S.MEAN] == pytest.approx(300 * 1.2)
    assert got.loc[("preschool_ger_pct", 2011), S.MEAN] == pytest.approx(60.0)
    assert any("held" in n[2] for n in notes)


def test_mape_and_coverage_by_hand():
    t = pd.DataFrame({S.AREA: ["a", "a", "b"], S.INDICATOR: ["x"] * 3, S.YEAR: [2011, 2012, 2011],
                      S.H: [1, 2, 1], S.ACTUAL: [100.0, 200.0, 50.0],
                      S.MEAN: [110.0, 190.0, 50.0], S.LO80: [105.0, 150.0, 40.0],
                      S.HI80: [115.0, 210.0, 60.0], S.LO95: [90.0, 140.0, 30.0],
                      S.HI95: [120.0, 220.0, 70.0], "naive": [80.0, 80.0, 40.0]})
    m = ev.mape_by_lead(t).set_index([S.INDICATOR, S.H])
    assert m.loc[("x", 1), "engine_mape"] == pytest.approx((10 + 0) / 2)
    assert m.loc[("x", 1), "naive_mape"] == pytest.approx((20 + 20) / 2)
    assert m.loc[("x", 2), "naive_mape"] == pytest.approx(60)
    assert m.loc[("x", "all"), "engine_mape"] == pytest.approx((5 + 5) / 2)
    c = ev.coverage(t).set_index(S.INDICATOR)
    assert c.loc["x", "inside_80_pct"] == pytest.approx(200 / 3)
    assert c.loc["x", "inside_95_pct"] == pytest.approx(100)


# --- the bundled data -----------------------------------------------------------------------------


def _run(tmp_path, name, obs_path, *extra, region="china", jump="2020", to="2025"):
    out = tmp_path / name
    res = runner.invoke(app, ["evaluate", "--region", region, "--jump-off", jump, "--to", to,
                              "--observations", str(obs_path), "--output", str(out),
                              "--draws", "20", *extra])
    return res, out


def test_no_look_ahead(tmp_path):
    """Changing every value after the jump-off changes no forecast (only the actuals)."""
    raw = pd.read_csv(BUNDLED, dtype={"area": str})
    later = raw["year"] > 2020
    changed = raw.copy()
    changed.loc[later, "value"] = changed.loc[later, "value"] * 1.37 + 11
    changed_path = tmp_path / "changed.csv"
    changed.to_csv(changed_path, index=False)
    a, out_a = _run(tmp_path, "a", BUNDLED)
    b, out_b = _run(tmp_path, "b", changed_path)
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    ta = pd.read_csv(out_a / "evaluation.csv", dtype={"area": str})
    tb = pd.read_csv(out_b / "evaluation.csv", dtype={"area": str})
    cols = [S.AREA, S.INDICATOR, S.YEAR, S.H, S.MEAN, S.LO80, S.HI80, S.LO95, S.HI95, "naive"]
    pd.testing.assert_frame_equal(ta[cols], tb[cols])
    assert not np.allclose(ta[S.ACTUAL], tb[S.ACTUAL])
    assert (ta[S.YEAR] > 2020).all() and (ta[S.H] == ta[S.YEAR] - 2020).all()
    assert list(ta.columns) == ev.EVALUATION_COLUMNS
    # the 2020 values are what naive is
    j = raw[(raw["year"] == 2020) & (raw["area"] == "china")
            & (raw["indicator"] == "primary_enrolment")]["value"].iloc[0]
    assert (ta.loc[ta[S.INDICATOR] == "primary_enrolment", "naive"] == j).all()


def test_same_seed_same_numbers_and_province_names(tmp_path):
    """Deterministic; a province named by code reads as the same province named by pinyin."""
    raw = pd.read_csv(BUNDLED, dtype={"area": str})
    sub = raw[raw["area"].isin(["sichuan", "anhui"])].copy()
    coded = sub.copy()
    coded.loc[coded["area"] == "sichuan", "area"] = "510000"
    p1, p2 = tmp_path / "pinyin.csv", tmp_path / "coded.csv"
    sub.to_csv(p1, index=False)
    coded.to_csv(p2, index=False)
    a, out_a = _run(tmp_path, "a", p1, region="china-provinces", jump="2010", to="2019")
    b, out_b = _run(tmp_path, "b", p2, region="china-provinces", jump="2010", to="2019")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ta = pd.read_csv(out_a / "evaluation.csv", dtype={"area": str})
    pd.testing.assert_frame_equal(ta, pd.read_csv(out_b / "evaluation.csv", dtype={"area": str}))
    assert set(ta[S.AREA]) == {"510000", "340000"}
    assert "MAPE" in a.output


@pytest.mark.parametrize("args, words", [
    (["--region", "atlantis"], ["unknown region", "atlantis"]),
    (["--jump-off", "2015"], ["2015", "not a bundled census year"]),
    (["--to", "2020"], ["--to 2020", "after the jump-off"]),
])
def test_bad_input_exit_2(tmp_path, args, words):
    base = {"--region": "china", "--jump-off": "2020", "--to": "2025"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    res = runner.invoke(app, ["evaluate", *[x for kv in base.items() for x in kv],
                              "--observations", str(BUNDLED), "--output",
                              str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output
    assert not (tmp_path / "out" / "evaluation.csv").exists()


def test_observations_without_jump_off_year_exit_2(tmp_path):
    raw = pd.read_csv(BUNDLED, dtype={"area": str})
    path = tmp_path / "no2020.csv"
    raw[raw["year"] != 2020].to_csv(path, index=False)
    res, out = _run(tmp_path, "out", path)
    assert res.exit_code == 2
    assert "jump-off" in res.output and "2020" in res.output and "no2020.csv" in res.output
    assert not (out / "evaluation.csv").exists()


def test_unknown_area_names_row(tmp_path):
    path = tmp_path / "bad.csv"
    _obs([("atlantis", 2020, "primary_enrolment", 1.0)]).rename(
        columns={S.AREA: "area"}).to_csv(path, index=False)
    res, _ = _run(tmp_path, "out", path)
    assert res.exit_code == 2
    assert "row 2" in res.output and "atlantis" in res.output


def test_unknown_indicator_is_named_not_silently_dropped(tmp_path):
    path = tmp_path / "obs.csv"
    _obs([("china", 2020, "primary_enrolment", 107253500.0),
          ("China", 2021, "primary_enrolment", 108000000.0),
          ("100000", 2020, "foo_count", 5.0), ("china", 2021, "foo_count", 6.0)]).to_csv(
        path, index=False)
    res, out = _run(tmp_path, "out", path)
    assert res.exit_code == 0, res.output
    assert "not projected" in res.output and "foo_count" in res.output
    t = pd.read_csv(out / "evaluation.csv", dtype={"area": str})
    assert list(t[S.INDICATOR]) == ["primary_enrolment"] and list(t[S.AREA]) == ["100000"]


def test_mlflow_run_like_a_backtest(tmp_path, tracking_uri):
    import mlflow

    from njforecast.tracking import list_runs

    res, out = _run(tmp_path, "out", BUNDLED, "--tracking-uri", tracking_uri,
                    "--experiment", "ev-test")
    assert res.exit_code == 0, res.output
    runs = list_runs("ev-test", tracking_uri)
    assert list(runs["status"]) == ["FINISHED"]
    client = mlflow.MlflowClient(tracking_uri)
    run_id = runs["run_id"].iloc[0]
    metrics = client.get_run(run_id).data.metrics
    mape = pd.read_csv(out / "mape_by_lead.csv")
    row = mape[(mape[S.INDICATOR] == "primary_enrolment") & (mape[S.H] == "5")].iloc[0]
    assert metrics["engine.primary_enrolment.mape_h5"] == pytest.approx(row["engine_mape"])
    assert metrics["naive.primary_enrolment.mape_h5"] == pytest.approx(row["naive_mape"])
    assert {"evaluation.csv", "mape_by_lead.csv", "coverage.csv", "assumptions.csv"} <= {
        a.path for a in client.list_artifacts(run_id)}


def test_learned_pupils_per_teacher_synthetic():
    """Pupils per teacher 20·e^{−0.02(t−2010)} observed 2005–2010 (synthetic): b = −0.02,
    σ = 0, φ = 1 (so the rule's inner-origin error is 0 too) → p(2011) = e^{−0.02};
    teachers(2011) = 50 · (550/500) / p. Held: 50 · 1.1."""
    years = range(2005, 2011)
    obs = _obs([(SYN, y, "primary_enrolment", 1000.0) for y in years]
               + [(SYN, y, "primary_teachers", 50.0 * np.exp(0.02 * (y - 2010))) for y in years]
               + [(SYN, 2011, "primary_teachers", 56.0), (SYN, 2011, "primary_enrolment", 1.0)])
    table, notes = ev.forecast_rows(obs, [SYN], 2010, 2012, _windows(), (1.0, 0.0), 3, 7)
    got = table.set_index([S.INDICATOR, S.YEAR])
    assert got.loc[("primary_teachers", 2011), S.MEAN] == pytest.approx(
        50 * 1.1 / np.exp(-0.02))
    assert any(n[0].startswith("ratio_path_") and "slope -0.0200" in n[2] for n in notes)
    held, _ = ev.forecast_rows(obs, [SYN], 2010, 2012, _windows(), (0.5, 0.0), 3, 7, "held")
    assert held.set_index([S.INDICATOR, S.YEAR]).loc[("primary_teachers", 2011), S.MEAN] == \
        pytest.approx(50 * 1.1)
    with pytest.raises(ev.DataError, match="--paths"):
        ev.forecast_rows(obs, [SYN], 2010, 2012, _windows(), None, 3, 7, "learnt")


def test_learned_fertility_moves_births_after_the_jump_off_only(tmp_path):
    """China from 2020: the learned design's fertility path (births per woman fell 2015–2020)
    projects fewer births for 2021+ than the held design (whose census fertility ratio is held)
    and names itself in the assumptions."""
    learned_run, out_l = _run(tmp_path, "l", BUNDLED)
    held_run, out_h = _run(tmp_path, "h", BUNDLED, "--paths", "held")
    assert learned_run.exit_code == 0 and held_run.exit_code == 0
    tl = pd.read_csv(out_l / "evaluation.csv").set_index([S.INDICATOR, S.YEAR])
    th = pd.read_csv(out_h / "evaluation.csv").set_index([S.INDICATOR, S.YEAR])
    assert (tl.loc["births", S.MEAN] < th.loc["births", S.MEAN]).all()
    ass_l = pd.read_csv(out_l / "assumptions.csv").set_index("name")
    ass_h = pd.read_csv(out_h / "assumptions.csv").set_index("name")
    assert ass_l.loc["fertility", S.VALUE] == "learned path"
    assert "births / women 15-49" in ass_l.loc["fertility", "note"]
    assert ass_h.loc["fertility", S.VALUE] == "census fertility ratio held"


@pytest.mark.parametrize("name", ["510000", "sichuan", "SICHUAN", "四川省", "Sichuan", " sichuan "])
def test_province_named_by_code_pinyin_or_name(tmp_path, name):
    """Code, pinyin slug and the Chinese or English name all read as province 510000."""
    path = tmp_path / "obs.csv"
    pd.DataFrame({"year": [2010], "area": [name], "indicator": ["primary_enrolment"],
                  "value": [5.0e6]}).to_csv(path, index=False, encoding="utf-8")
    obs = ev.read_evaluation_observations(path, ev._region("china-provinces"))
    assert obs[S.AREA].tolist() == ["510000"] and obs[S.VALUE].tolist() == [5.0e6]
