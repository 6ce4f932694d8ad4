"""Tests for njforecast.engine.run and the end-to-end run (few draws, short horizon, tmp outputs)."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import reference  # the frame pipeline of f13f3a3 (tests/reference.py)
from njforecast import engine
from njforecast.engine import state as engine_state
from njforecast.engine.state import stage_configs
from njforecast import reporting as rp
from njforecast import schema as S
from njforecast.cli import app
from njforecast.config import RunConfig
from njforecast.io.plan import load_plan_targets
from njforecast.planning.scenarios import Scenario

CITY = "511000"
DATA = Path(__file__).resolve().parents[1] / "data"
CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "neijiang-baseline" / "config.toml"


def _presets():
    """The presets of the bundled region and plan."""
    from njforecast.config import load_config

    return engine.presets_for(load_config(CONFIG))


@pytest.fixture(scope="module")
def small_cfg(tmp_path_factory):
    """A short, cheap run of the real engine (8 draws to 2027) writing into a temp folder."""
    tmp = tmp_path_factory.mktemp("run")
    return RunConfig(name="t", end_year=2027, draws=8, seed=7, output_dir=str(tmp / "out"),
                     tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
                     sections={"teachers": {"method": "area_ratio",
                                            "base_supply": "province_ratio"},
                               "report": {"fan_indicators": ["senior_stage_ger"]}})


@pytest.fixture(scope="module")
def base(small_cfg):
    """The baseline Results of the small run."""
    return engine.run(small_cfg)


def test_same_seed_same_numbers(small_cfg, base):
    """Same config + data + seed gives identical target series and enrolment."""
    again = engine.run(small_cfg)
    pd.testing.assert_frame_equal(base.target_series, again.target_series)
    pd.testing.assert_frame_equal(base.enrolment, again.enrolment)
    assert base.data_hash == again.data_hash and len(base.data_hash) == 64


def test_counties_add_up_to_city_enrolment(base):
    """City enrolment equals the sum of its census areas, draw by draw (bottom-up coherence)."""
    e = base.enrolment
    keys = [S.YEAR, S.LEVEL, S.DRAW]
    city = e[e[S.AREA] == CITY].set_index(keys)[S.ENROLMENT].sort_index()
    parts = e[e[S.AREA] != CITY].groupby(keys)[S.ENROLMENT].sum().sort_index()
    np.testing.assert_allclose(city.to_numpy(), parts.reindex(city.index).to_numpy(), rtol=1e-9)


def test_every_target_has_a_row_and_p_meet_in_unit_interval(base):
    """Comparing the real run with the plan keeps all 31 targets; p_meet lies in [0, 1]."""
    from njforecast.planning.targets import compare_to_targets

    tg = load_plan_targets()
    gaps = compare_to_targets(base.target_series, tg, years=[2025, 2027])
    assert set(gaps[S.INDICATOR]) == set(tg[S.INDICATOR])
    p = gaps[S.P_MEET].dropna()
    assert len(p) >= 5 and p.between(0, 1).all()
    row = gaps[(gaps[S.AREA] == CITY) & (gaps[S.INDICATOR] == "senior_stage_ger")
               & (gaps[S.YEAR] == 2025)]
    assert row[S.N_DRAWS].iloc[0] == 8


def test_summary_tables_labels_agree_with_summarised_values(base):
    """capacity.csv status and p_over agree with the summarised utilisation and the draws;
    teachers.csv ratio is its summarised enrolment ÷ demand and no draw-varying label is kept."""
    from njforecast.education.capacity import capacity_status

    tabs = base.tables()
    cap = tabs["capacity"]
    np.testing.assert_array_equal(cap[S.STATUS].to_numpy(),
                                  capacity_status(cap[S.UTILISATION].to_numpy()))
    raw = base.capacity.dropna(subset=[S.UTILISATION])
    p = (raw[S.UTILISATION] > 100).groupby([raw[S.AREA], raw[S.YEAR], raw[S.LEVEL]]).mean()
    got = cap.dropna(subset=[S.UTILISATION]).set_index([S.AREA, S.YEAR, S.LEVEL])[S.P_OVER]
    np.testing.assert_allclose(got.sort_index().to_numpy(), p.sort_index().to_numpy())
    t = tabs["teachers"]
    assert S.DRAW not in t.columns
    raw_t = base.teachers
    m = raw_t.groupby([S.AREA, S.YEAR, S.LEVEL])[S.DEMAND].mean().sort_index()
    np.testing.assert_allclose(t.set_index([S.AREA, S.YEAR, S.LEVEL])[S.DEMAND].sort_index(), m)
    np.testing.assert_allclose(t[S.RATIO], t[S.ENROLMENT] / t[S.DEMAND])  # pupils per teacher
    assert (t[f"{S.DEMAND}_lo80"] <= t[S.DEMAND] + 1e-9).all()
    assert (t[S.DEMAND] <= t[f"{S.DEMAND}_hi80"] + 1e-9).all()


def test_teachers_summary_ratio_and_labels_hand_computed():
    """Two draws, enrolment 100 / 300, demand 10 / 20: ratio 400/30 = 13.33 (not the mean of
    10 and 15); a label varying by draw is dropped, a constant one kept."""
    t = pd.DataFrame({S.AREA: "A", S.YEAR: 2025, S.LEVEL: "primary", S.DRAW: [0, 1],
                      S.ENROLMENT: [100.0, 300.0], S.DEMAND: [10.0, 20.0], S.RATIO: [10.0, 15.0],
                      S.HIRES_NEEDED: [1.0, 3.0], S.METHOD: "area_ratio", "flag": ["a", "b"]})
    row = reference.summarise_teachers(t).iloc[0]
    assert row[S.RATIO] == pytest.approx(400 / 30) and row[S.DEMAND] == pytest.approx(15)
    assert row[S.METHOD] == "area_ratio" and "flag" not in row.index


def test_teachers_added_is_the_2021_2025_sum_of_hires():
    """teachers_added_2021_2025 = Σ hires_needed 2021..2025 over levels (synthetic teachers)."""
    t = pd.DataFrame({S.AREA: CITY, S.YEAR: [2020, 2021, 2022, 2023, 2024, 2025, 2025, 2026],
                      S.LEVEL: ["primary"] * 6 + ["junior", "primary"],
                      S.HIRES_NEEDED: [100.0, 1, 2, 3, 4, 5, 10, 7]})
    ind = pd.DataFrame(columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])
    s = reference.target_series(ind, t, ["teachers_added_2021_2025"], CITY)
    got = s.set_index(S.YEAR)[S.VALUE]
    assert got[2025] == 1 + 2 + 3 + 4 + 5 + 10
    assert got[2026] == 2 + 3 + 4 + 15 + 7  # the five-year window ending 2026


def test_scenario_overrides_reach_stage_configs():
    """Scenario fields land in the documented stage keys; untouched tables stay as configured."""
    cfg = RunConfig(sections={"teachers": {"method": "area_ratio"}, "demography":
                              {"fertility_multiplier": 0.9}})
    sc = Scenario("x", fertility_multiplier=0.5, reach_targets_by=2025,
                  class_size_cap_primary=40, attrition=0.03)
    st = stage_configs(cfg, sc.overrides())
    assert st["demography"]["fertility_multiplier"] == pytest.approx(0.45)
    assert st["enrolment"] == {"rate_path": "target", "target_year": 2025,
                               "consolidation_path": "target"}
    assert st["teachers"]["method"] == "class_size"
    assert st["teachers"]["class_caps"] == {"primary": 40.0}
    assert st["teachers"]["attrition"] == 0.03
    assert stage_configs(cfg, {})["teachers"] == {"method": "area_ratio"}


def test_high_fertility_never_fewer_preschoolers(small_cfg, base):
    """Same seed, fertility × 1.2: preschool enrolment in 2027 is never below the baseline's."""
    hi = engine.run(small_cfg, _presets()["high_fertility"])
    def pre(r):
        e = r.enrolment
        return e[(e[S.LEVEL] == "preschool") & (e[S.YEAR] == 2027)].set_index(
            [S.AREA, S.DRAW])[S.ENROLMENT].sort_index()
    diff = pre(hi) - pre(base)
    assert (diff >= -1e-9).all() and diff.sum() > 0


def test_plan_targets_scenario_meets_rate_targets(small_cfg):
    """With rates moved to the targets by 2025, the city's senior-stage GER meets 95 in 2025."""
    r = engine.run(small_cfg, _presets()["plan_targets_2025"])
    ts = r.target_summary()
    v = ts[(ts[S.AREA] == CITY) & (ts[S.YEAR] == 2025) & (ts[S.INDICATOR] == "senior_stage_ger")]
    assert v[S.MEAN].iloc[0] == pytest.approx(95.0, abs=1e-6)


def test_sources_table_lists_files_with_digests():
    """The sources table has the census files from SOURCES.md with a 16-hex sha256 each."""
    src = engine_state.sources_table()
    row = src[src["file"] == "census/census_county_2010.xlsx"]
    assert len(row) == 1 and len(row["sha256"].iloc[0]) == 16
    assert "leiii/census" in row["origin"].iloc[0]
    assert (src["sha256"].str.len() == 16).sum() >= 6


def test_data_hash_changes_with_content(tmp_path):
    """Changing one byte of an input file changes the data hash."""
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n")
    h1 = engine_state.data_hash([f])
    f.write_text("x\n2\n")
    assert engine_state.data_hash([f]) != h1


def test_build_outputs_atomic_and_complete(small_cfg, monkeypatch):
    """Outputs land in the folder; a failing rerun keeps the old outputs and leaves no temp dirs."""
    cfg = dataclasses.replace(small_cfg, draws=4)
    seen = []
    out = rp.build_outputs(cfg, "en", None, [_presets()["low_fertility"]],
                           on_scenario=lambda r, g: seen.append(r.scenario))
    final = out["out_dir"]
    assert seen == ["baseline", "low_fertility"]
    for name in ("target_gaps.csv", "report.html", "report.xlsx", "scenario_comparison.csv",
                 "scenario_targets.csv"):
        assert (final / name).is_file(), name
    for csv in final.glob("*.csv"):  # every table says how each number stands (quality)
        assert S.QUALITY in pd.read_csv(csv, nrows=0).columns, csv.name
    before = (final / "target_gaps.csv").read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(rp, "write_report", boom)
    with pytest.raises(RuntimeError):
        rp.build_outputs(cfg, "en")
    assert (final / "target_gaps.csv").read_bytes() == before
    assert [p.name for p in final.parent.iterdir() if p.name.startswith(".")] == []


def test_cli_run_end_to_end_tracks_in_mlflow(small_cfg, tmp_path, monkeypatch):
    """`njforecast run` exits 0, prints the summary, writes outputs and a FINISHED MLflow run."""
    from njforecast import tracking

    monkeypatch.chdir(tmp_path)  # models/scenario-engine is written under the cwd
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'name = "t-cli"\nend_year = 2026\ndraws = 4\nseed = 1\n'
                        f'output_dir = "{tmp_path / "out"}"\n'
                        f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n'
                        '[report]\nfan_indicators = ["senior_stage_ger"]\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg_file), "--no-scenarios"])
    assert res.exit_code == 0, res.output
    assert "senior_stage_ger" in res.output and "p_meet" in res.output
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "models" / "scenario-engine" / "MLmodel").is_file()
    runs = tracking.list_runs("t-cli", f"sqlite:///{tmp_path / 'm.db'}")
    assert set(runs["status"]) == {"FINISHED"}
    assert len(runs) == 2 and runs["parent_run_id"].notna().sum() == 1  # parent + baseline


@pytest.mark.parametrize("tracking_fails", [False, True, "publish"])
def test_cli_run_publishes_the_model_only_after_tracking_completes(tmp_path, monkeypatch,
                                                                   tracking_fails):
    """The served model is replaced only once the MLflow run has finished recording: a
    tracking failure after the outputs were computed leaves no published model (exit 1); a
    failure to put the model in place is a message (exit 1), with no staged folder left."""
    from njforecast import tracking

    if tracking_fails == "publish":
        def refuse(parent, staged, out_dir):
            raise PermissionError(13, "Permission denied", str(out_dir))

        monkeypatch.setattr(tracking, "publish_scenario_model", refuse)

    class Parent:  # stands in for the tracking process: staging writes a marked folder
        def apply(self, fn, *args):
            if fn is tracking.stage_scenario_model:
                Path(args[0]).mkdir(parents=True)
                (Path(args[0]) / "MLmodel").write_text("staged", encoding="utf-8")
            else:
                fn(self, *args)

    def log_pipeline(cfg, body, run_name=None):
        out = body(Parent())
        if tracking_fails is True:
            raise tracking.TrackingError("simulated: final metrics not recorded")
        return "run-id", out

    monkeypatch.setattr(tracking, "log_pipeline", log_pipeline)
    monkeypatch.setattr(tracking, "log_scenario", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'name = "t-pub"\nend_year = 2026\ndraws = 4\nseed = 1\n'
                        f'output_dir = "{tmp_path / "out"}"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg_file), "--no-scenarios"])
    published = tmp_path / "models" / "scenario-engine" / "MLmodel"
    if tracking_fails == "publish":
        assert res.exit_code == 1 and "could not be put in" in res.output, res.output
        assert "Traceback" not in res.output and not published.exists()
        assert [p.name for p in (tmp_path / "models").iterdir()] == []
    elif tracking_fails:
        assert res.exit_code == 1 and "final metrics not recorded" in res.output
        assert not published.exists()
    else:
        assert res.exit_code == 0, res.output
        assert published.read_text(encoding="utf-8") == "staged"


def test_cli_bad_inputs_exit_2_without_traceback(tmp_path):
    """A missing config or an unknown scenario gives 'error: …' and exit status 2."""
    r = CliRunner().invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2 and "config file not found" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(app, ["scenario", "show", "no_such"])
    assert r.exit_code == 2 and "unknown scenario" in r.output


def test_cli_scenario_list_and_show():
    """`scenario list` names every preset; `scenario show` prints TOML that reads back."""
    import tomllib

    r = CliRunner().invoke(app, ["scenario", "list"])
    assert r.exit_code == 0 and all(n in r.output for n in _presets())
    r = CliRunner().invoke(app, ["scenario", "show", "class_caps_45_50"])
    assert tomllib.loads(r.output)["class_size_cap_junior"] == 50.0


def test_fixed_hiring_plan_counts_as_teachers_added(small_cfg):
    """With hires_per_year = 800 the plan-period additions are 5 × 800 = 4,000 in every draw."""
    r = engine.run(small_cfg, Scenario("hire800", hires_per_year=800.0))
    ts = r.target_series
    v = ts[(ts[S.INDICATOR] == "teachers_added_2021_2025") & (ts[S.YEAR] == 2025)][S.VALUE]
    assert len(v) == 8 and np.allclose(v, 4000.0)


def test_failed_run_is_marked_failed_in_mlflow(tmp_path):
    """An error inside the pipeline body marks the MLflow parent run FAILED and propagates."""
    from njforecast import tracking

    uri = f"sqlite:///{tmp_path / 'f.db'}"
    cfg = RunConfig(name="t-fail", tracking_uri=uri)

    def body(parent):
        raise ValueError("simulated stage failure")

    with pytest.raises(ValueError, match="simulated"):
        tracking.log_pipeline(cfg, body)
    assert list(tracking.list_runs("t-fail", uri)["status"]) == ["FAILED"]


def test_cli_scenario_run_user_toml(tmp_path):
    """`scenario run FILE.toml` runs a user scenario as its own tracked run with a report."""
    from njforecast import tracking

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'name = "t-scen"\nend_year = 2026\ndraws = 4\nseed = 1\n'
                        f'output_dir = "{tmp_path / "out"}"\n'
                        f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n'
                        '[report]\nfan_indicators = ["senior_stage_ger"]\n', encoding="utf-8")
    sc_file = tmp_path / "births_down.toml"
    sc_file.write_text("fertility_multiplier = 0.7\nattrition = 0.06\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["scenario", "run", str(sc_file), "--config", str(cfg_file)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out-births_down"
    assert (out / "report.html").is_file() and (out / "target_gaps.csv").is_file()
    runs = tracking.list_runs("t-scen", f"sqlite:///{tmp_path / 'm.db'}")
    assert "scenario:births_down" in set(runs["run_name"]) and set(runs["status"]) == {"FINISHED"}
    bad = tmp_path / "bad.toml"
    bad.write_text("fertility_multiplier = 7\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["scenario", "run", str(bad), "--config", str(cfg_file)])
    assert r.exit_code == 2 and "out of range" in r.output


def test_status_quo_rates_scenario_holds_rates_and_consolidation():
    """The status_quo_rates preset sets both the rate path and the consolidation path to hold."""

    cfg = RunConfig(sections={"enrolment": {"rate_path": "trend", "consolidation_path": "trend"}})
    st = stage_configs(cfg, _presets()["status_quo_rates"].overrides())
    assert st["enrolment"] == {"rate_path": "hold", "consolidation_path": "hold"}
    assert stage_configs(cfg, {})["enrolment"]["rate_path"] == "trend"
    # a model path changes the GER paths only; consolidation keeps the configured trend
    st = stage_configs(cfg, {"rate_path": "model"})
    assert st["enrolment"] == {"rate_path": "model", "consolidation_path": "trend"}
    # a scenario's staffing standard replaces own ratios, so a configured ratio path is dropped
    cfg = RunConfig(sections={"teachers": {"method": "area_ratio", "ratio_path": "model"}})
    st = stage_configs(cfg, {"staffing_standard": "unified_2014"})
    assert st["teachers"] == {"method": "standard"}
    assert stage_configs(cfg, {})["teachers"]["ratio_path"] == "model"
    # ratios_held keeps each area's own ratio and drops whatever path the config gives it
    cfg = RunConfig(sections={"teachers": {"method": "area_ratio", "ratio_path": "trend",
                                           "ratio_change": -0.1}})
    st = stage_configs(cfg, _presets()["ratios_held"].overrides())
    assert st["teachers"] == {"method": "area_ratio"}


def test_target_series_marks_teachers_added_as_need_or_hires():
    """Hiring to need marks teachers added as a need; a fixed plan marks it as hires; the value
    is the sum of hires (synthetic five-year teachers frame)."""
    t = pd.DataFrame({S.AREA: "1", S.YEAR: range(2021, 2026), S.LEVEL: "primary",
                      S.HIRES_NEEDED: [10.0] * 5, S.HIRES: [10.0] * 5})
    ind = pd.DataFrame(columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])
    name = "teachers_added_2021_2025"
    s = reference.target_series(ind, t, [name], "1")
    assert s.attrs["projected_as"] == {name: "need"} and s[S.VALUE].iloc[0] == 50
    s2 = reference.target_series(ind, t.assign(**{S.HIRES: 20.0}), [name], "1",
                                 fixed_hiring=True)
    assert s2.attrs["projected_as"] == {name: "hires"} and s2[S.VALUE].iloc[0] == 100


def test_hiring_policy_is_read_from_the_config_not_inferred(small_cfg, tmp_path):
    """A fixed plan (hires_per_year) reads teachers added as hires; hiring to need reads it as
    a need, also when a planner's teacher count after the census (synthetic: Zizhong primary
    2022 = 3,500) makes that year's hires differ from the need under the national standard."""
    from dataclasses import replace

    assert engine.run(small_cfg, Scenario("h", hires_per_year=800.0, draws=0)).fixed_hiring()
    f = tmp_path / "count.csv"
    f.write_text("area,year,indicator,value\n511025,2022,primary_teachers,3500\n",
                 encoding="utf-8")
    cfg = replace(small_cfg, sections={**small_cfg.sections, "data": {"observations": str(f)}})
    res = engine.run(cfg, Scenario("std", staffing_standard="unified_2014", draws=0))
    t = res.projection.teachers
    assert not np.allclose(t[S.HIRES], t[S.HIRES_NEEDED])  # the count sets a year's hires
    assert not res.fixed_hiring()
    assert res.target_series.attrs["projected_as"] == {"teachers_added_2021_2025": "need"}


def test_planner_observations_reach_the_run_and_bad_files_exit_2(small_cfg, tmp_path):
    """[data] observations (a planner's file, synthetic county count) replaces the estimate in
    the main job: Zizhong primary 2020 = 50,000, flagged observed, and the assumptions name the
    file; a missing file or a bad row exits 2 naming the file, without a traceback."""
    from dataclasses import replace

    f = tmp_path / "mine.csv"
    f.write_text((DATA / "enrolment_user_observations.csv").read_text(encoding="utf-8"),
                 encoding="utf-8")
    cfg = replace(small_cfg, draws=2, end_year=2021,
                  sections={**small_cfg.sections, "data": {"observations": str(f)}})
    res = engine.run(cfg)
    e = res.enrolment.set_index([S.AREA, S.YEAR, S.LEVEL])
    z = e.loc[("511025", 2020, "primary")]
    assert (z[S.ENROLMENT] == 50000).all() and (z[S.QUALITY] == "observed").all()
    a = res.assumptions.set_index("name")
    assert a.loc["planner_observations", S.VALUE] == str(f)
    assert res.data_hash != engine_state.data_hash()  # the planner's file is part of the lineage
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'name = "t-obs"\nend_year = 2021\ndraws = 2\n'
                        f'output_dir = "{tmp_path / "out"}"\n'
                        f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(cfg_file), "--no-scenarios", "--observations",
                                 str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "nope.csv" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("area,year,indicator,value\n511025,2020,primary_enrolment,12万\n",
                   encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(cfg_file), "--no-scenarios", "--observations",
                                 str(bad)])
    assert r.exit_code == 2 and "bad.csv" in r.output and "Traceback" not in r.output


def test_cli_scenario_run_checks_targets_on_the_scenarios_horizon(tmp_path):
    """A scenario that extends end_year (2026 → 2028) may compare with a 2028 target; the
    target is refused (exit 2) only past the scenario's own horizon."""
    cfg_file = tmp_path / "c.toml"
    tg = tmp_path / "t.csv"
    tg.write_text("area,indicator,target_year,comparison,target,unit\n"
                  "511000,senior_stage_ger,2028,at_least,95,percent\n", encoding="utf-8")
    cfg_file.write_text(f'name = "t-horizon"\nend_year = 2026\ndraws = 2\nseed = 1\n'
                        f'output_dir = "{tmp_path / "out"}"\n'
                        f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n'
                        f'[targets]\nfile = "{tg}"\n', encoding="utf-8")
    for end, code in ((2028, 0), (2027, 2)):
        sc_file = tmp_path / f"to{end}.toml"
        sc_file.write_text(f"end_year = {end}\n", encoding="utf-8")
        r = CliRunner().invoke(app, ["scenario", "run", str(sc_file), "--config", str(cfg_file)])
        assert r.exit_code == code, r.output
    assert "target year 2028 is after the run's end_year 2027" in r.output
    gaps = pd.read_csv(tmp_path / "out-to2028" / "target_gaps.csv")
    assert (gaps["year"] == 2028).any()


def test_smaller_class_cap_means_more_classes_and_teachers(small_cfg):
    """Primary demand under a class cap is ⌈E / cap⌉ classes × the standard class's teachers
    (45 / the standard ratio): a cap of 30 instead of 45 needs ⌈E/30⌉ / ⌈E/45⌉ times the
    teachers (the cap used to cancel out of the demand)."""
    import math

    quality = {}

    def primary(cap):
        res = engine.run(small_cfg, Scenario(f"cap{cap}", class_size_cap_primary=float(cap),
                                             draws=0))
        a = res.assumptions.set_index(res.assumptions.columns[0])
        quality[cap] = a.loc["class_cap_primary", S.QUALITY]
        t = res.tables()["teachers"]
        return t[(t[S.LEVEL] == "primary") & (t[S.AREA] == "511025")].set_index(S.YEAR)

    p45, p30 = primary(45), primary(30)
    assert quality == {45: "observed", 30: "estimated"}  # the plan's standard vs a choice
    for y in (2021, 2027):
        e = p45.loc[y, S.ENROLMENT]
        assert p30.loc[y, S.ENROLMENT] == e
        assert p30.loc[y, S.DEMAND] / p45.loc[y, S.DEMAND] == pytest.approx(
            math.ceil(e / 30) / math.ceil(e / 45))
        assert p30.loc[y, S.DEMAND] > 1.4 * p45.loc[y, S.DEMAND]


def test_base_year_teachers_in_post_are_the_same_in_every_scenario(small_cfg):
    """The base year is observed: a staffing standard or class caps change the demand and the
    hires from the next year on, never the teachers in post in the base year."""
    def base_supply(sc):
        t = engine.run(small_cfg, sc).tables()["teachers"]
        t = t[t[S.YEAR] == t[S.YEAR].min()]
        return t.set_index([S.AREA, S.LEVEL])[S.SUPPLY].sort_index()

    ref = base_supply(Scenario("baseline", draws=0))
    for sc in (Scenario("std", staffing_standard="unified_2014", draws=0),
               Scenario("caps", class_size_cap_primary=40.0, draws=0)):
        pd.testing.assert_series_equal(base_supply(sc), ref)
