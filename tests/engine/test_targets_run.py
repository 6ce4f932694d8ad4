"""The real Neijiang engine with a planner's targets file (2030 targets, teachers added
2026–2030) and a planner's 2025 observations (ex-post): synthetic, labelled files in
tests/data/targets/."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from njforecast import engine
from njforecast import schema as S
from njforecast.cli import app
from njforecast.config import RunConfig
from njforecast.engine import state as st
from njforecast.planning.targets import compare_to_targets, target_actuals

DATA = Path(__file__).resolve().parents[1] / "data" / "targets"
TARGETS = DATA / "neijiang_synthetic_2030.csv"
OBS = DATA / "neijiang_synthetic_2025_observations.csv"
CITY = "511000"


def _cfg(tmp, **sections):
    """A short run of the real engine (40 draws to 2030, trend rate paths) into a temp folder."""
    return RunConfig(name="t", end_year=2030, draws=40, seed=7, output_dir=str(tmp / "out"),
                     tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
                     sections={"enrolment": {"rate_path": "trend", "consolidation_path": "trend"},
                               "teachers": {"method": "area_ratio",
                                            "base_supply": "province_ratio"}, **sections})


@pytest.fixture(scope="module")
def with_targets(tmp_path_factory):
    """Results and state of a run with the synthetic 2030 targets file."""
    cfg = _cfg(tmp_path_factory.mktemp("tg"), targets={"file": str(TARGETS)})
    return engine.run(cfg), st.state_for(cfg)


def test_targets_file_gives_2030_gaps_with_p_meet_from_draws(with_targets):
    """The 2030 targets are compared in 2030 and p_meet comes from the draws (0 < p < 1 for one)."""
    res, state = with_targets
    gaps = compare_to_targets(res.target_series, state.targets)
    city = gaps[(gaps[S.AREA] == CITY) & (gaps[S.SCOPE] == "plan (city)")]
    city = city.set_index(S.INDICATOR)
    assert set(city[S.YEAR]) == {2030}
    assert set(city.index) == {"preschool_ger_3y", "senior_stage_ger", "teachers_added_2026_2030"}
    assert (city[S.N_DRAWS] == 40).all()
    p = city[S.P_MEET]
    assert ((p > 0) & (p < 1)).any(), p
    v = res.target_series
    v = v[(v[S.AREA] == CITY) & (v[S.INDICATOR] == "preschool_ger_3y") & (v[S.YEAR] == 2030)]
    assert p["preschool_ger_3y"] == pytest.approx((v[S.VALUE] >= 91.0).mean())


def test_teachers_added_period_comes_from_the_file(with_targets):
    """The hiring plan period is 2026–2030 because the file's id says so."""
    res, _ = with_targets
    assert tuple(res.projection.hiring_period) == (2026, 2030)
    ts = res.target_series
    assert set(ts.loc[ts[S.INDICATOR] == "teachers_added_2026_2030", S.YEAR]) == {2030}


def test_targets_file_in_assumptions_and_data_hash(with_targets, tmp_path):
    """The targets file is named in the assumptions and changes the data hash."""
    res, state = with_targets
    row = res.assumptions.set_index("name").loc["targets_file"]
    assert row[S.VALUE].endswith("neijiang_synthetic_2030.csv") and "3 targets" in row["note"]
    plain = st.state_for(_cfg(tmp_path))
    assert plain.data_hash != state.data_hash
    assert plain.data_hash == st.data_hash()


def test_ex_post_2025_row_from_a_planner_file(tmp_path):
    """A planner's 2025 preschool GER (90.1) appears as actual, not met, intervals from draws
    (jump_off = 2020: the 2025 value is an actual only, not a calibration point)."""
    from dataclasses import replace

    cfg = replace(_cfg(tmp_path, data={"observations": str(OBS)}), jump_off=2020)
    res, state = engine.run(cfg), st.state_for(cfg)
    gaps = compare_to_targets(res.target_series, state.targets,
                              actuals=target_actuals(state.planner, state.observations))
    row = gaps[(gaps[S.AREA] == CITY) & (gaps[S.INDICATOR] == "preschool_ger_3y")
               & (gaps[S.YEAR] == 2025)].iloc[0]
    assert row[S.ACTUAL] == 90.1 and row[S.MET] is False
    v = res.target_series
    v = v[(v[S.AREA] == CITY) & (v[S.INDICATOR] == "preschool_ger_3y") & (v[S.YEAR] == 2025)]
    lo80, hi80, lo95, hi95 = np.quantile(v[S.VALUE], [0.1, 0.9, 0.025, 0.975])
    assert row[S.IN_80] == bool(lo80 <= 90.1 <= hi80)
    assert row[S.IN_95] == bool(lo95 <= 90.1 <= hi95)
    other = gaps[(gaps[S.INDICATOR] == "senior_stage_ger") & (gaps[S.YEAR] == 2025)]
    assert other[S.ACTUAL].isna().all()


def test_cli_run_with_targets_and_observations_writes_the_ex_post_table(tmp_path, monkeypatch):
    """`njforecast run CONFIG --targets FILE --observations FILE` writes target_gaps.csv with the
    ex-post columns and the report's ex-post table."""
    monkeypatch.chdir(tmp_path)  # the run exports models/scenario-engine under the cwd
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'name = "t"\nend_year = 2030\ndraws = 20\nseed = 7\noutput_dir = "{out}"\n'
                   f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n'
                   '[enrolment]\nrate_path = "trend"\n', encoding="utf-8")
    tg = tmp_path / "t.csv"
    tg.write_text("area,indicator,target_year,comparison,target,unit\n"
                  "511000,preschool_ger_3y,2025,at_least,92.09,percent\n"
                  "511000,preschool_ger_3y,2030,at_least,91,percent\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg), "--targets", str(tg), "--observations",
                                   str(OBS), "--no-scenarios"])
    assert res.exit_code == 0, res.output
    gaps = pd.read_csv(out / "target_gaps.csv", dtype={S.AREA: str})
    assert list(gaps.columns[-4:]) == list(S.EX_POST_COLUMNS)
    r = gaps[(gaps[S.AREA] == CITY) & (gaps[S.YEAR] == 2025)].iloc[0]
    assert r[S.ACTUAL] == 90.1 and not r[S.MET]
    assert "What the plan period ended at" in (out / "report.html").read_text(encoding="utf-8")


def test_two_teachers_added_periods_are_both_projected(tmp_path):
    """A targets file with teachers added 2021–2025 and 2026–2030 (synthetic) gets both rows:
    each the sum of the city's hires over its own five years, draw by draw."""
    f = tmp_path / "two_periods.csv"
    pd.DataFrame({"area": CITY, "indicator": ["teachers_added_2021_2025",
                                              "teachers_added_2026_2030"],
                  "target_year": [2025, 2030], "comparison": "at_least", "target": [4000, 3000],
                  "unit": "persons"}).to_csv(f, index=False)
    cfg = _cfg(tmp_path, targets={"file": str(f)})
    res = engine.run(cfg)
    ts = res.target_series
    hires = res.projection.teachers[S.HIRES][-1].sum(axis=0)  # city, all levels: (year, d)
    years = list(res.projection.years)
    for name, y0, y1 in (("teachers_added_2021_2025", 2021, 2025),
                         ("teachers_added_2026_2030", 2026, 2030)):
        got = ts[(ts[S.INDICATOR] == name) & (ts[S.YEAR] == y1)].sort_values(S.DRAW)[S.VALUE]
        want = hires[years.index(y0):years.index(y1) + 1].sum(axis=0)
        assert len(got) == 40 and np.allclose(got.to_numpy(), want)
    gaps = compare_to_targets(ts, st.state_for(cfg).targets)
    assert {"teachers_added_2021_2025", "teachers_added_2026_2030"} <= set(
        gaps.loc[gaps[S.N_DRAWS] > 0, S.INDICATOR])


def test_plan_targets_scenario_reaches_only_the_targets_the_file_has(tmp_path):
    """A file with one GER target (no consolidation target) keeps the plan-targets preset: the
    GERs move to their target, consolidation follows the config's path (it used to fail with
    "consolidation_path 'target' needs a compulsory_consolidation_rate target"); a file with
    no enrolment-rate target at all has no plan-targets preset."""
    f = tmp_path / "one.csv"
    f.write_text("area,indicator,target_year,comparison,target,unit\n"
                 "511000,preschool_ger_3y,2030,at_least,93,percent\n", encoding="utf-8")
    cfg = _cfg(tmp_path, targets={"file": str(f)})
    sc = engine.presets_for(st.state_for(cfg))["plan_targets_2030"]
    res = engine.run(cfg, sc)
    a = {r[0]: r[1] for r in res.projection.assumptions}
    assert a["rate_path"] == "target" and a["consolidation_path"] == "trend"
    ger = res.target_series
    ger = ger[(ger[S.INDICATOR] == "preschool_ger_3y") & (ger[S.AREA] == CITY)
              & (ger[S.YEAR] == 2030)]
    assert np.allclose(ger[S.VALUE], 93.0)
    g = tmp_path / "teachers.csv"
    g.write_text("area,indicator,target_year,comparison,target,unit\n"
                 "511000,teachers_added_2026_2030,2030,at_least,3000,persons\n",
                 encoding="utf-8")
    names = engine.presets_for(_cfg(tmp_path, targets={"file": str(g)}))
    assert "baseline" in names and not [n for n in names if n.startswith("plan_targets")]


def test_reach_targets_by_moves_only_the_paths_with_a_target():
    """stage_configs: the GER path becomes "target" only with a GER target, consolidation only
    with a consolidation target; rate_target_ids reads the region's own numbered rows."""
    from njforecast.engine.state import rate_target_ids, stage_configs

    cfg = RunConfig(sections={"enrolment": {"rate_path": "trend", "consolidation_path": "hold"}})
    over = {"reach_targets_by": 2030}

    def paths(ids):
        e = stage_configs(cfg, over, ids)["enrolment"]
        return e["rate_path"], e["consolidation_path"], e["target_year"]

    assert paths(None) == ("target", "target", 2030)
    assert paths({"senior_stage_ger"}) == ("target", "hold", 2030)
    assert paths({"compulsory_consolidation_rate"}) == ("trend", "target", 2030)
    with pytest.raises(ValueError, match="no enrolment-rate target"):
        paths(set())  # a scenario asking for targets that the file does not have: said
    t = pd.DataFrame({S.AREA: [CITY, "511025", CITY, CITY],
                      S.INDICATOR: ["preschool_ger_3y", "senior_stage_ger",
                                    "compulsory_consolidation_rate", "kindergarten_children"],
                      S.TARGET: [93.0, 95.0, np.nan, 1e5]})
    assert rate_target_ids(t, CITY) == {"preschool_ger_3y"}


def test_consolidation_target_on_several_years_reaches_the_latest(tmp_path):
    """Consolidation targets for 2025 and 2030 (synthetic): the plan-targets path reaches the
    latest, 97 in 2030 (several rows used to fail with "truth value of a Series is
    ambiguous")."""
    f = tmp_path / "cons.csv"
    f.write_text("area,indicator,target_year,comparison,target,unit\n"
                 "511000,compulsory_consolidation_rate,2025,at_least,96,percent\n"
                 "511000,compulsory_consolidation_rate,2030,at_least,97,percent\n"
                 "511000,preschool_ger_3y,2030,at_least,93,percent\n", encoding="utf-8")
    cfg = _cfg(tmp_path, targets={"file": str(f)})
    res = engine.run(cfg, engine.presets_for(st.state_for(cfg))["plan_targets_2030"])
    ts = res.target_series
    c = ts[(ts[S.INDICATOR] == "compulsory_consolidation_rate") & (ts[S.AREA] == CITY)]
    assert np.allclose(c[c[S.YEAR] == 2030][S.VALUE], 97.0)


@pytest.mark.parametrize("ger_year", [None, 2026])
def test_consolidation_target_is_reached_in_its_own_year(tmp_path, ger_year):
    """consolidation_path = "target" reaches a 2030 consolidation target in 2030 (linearly from
    the base), whether the file has no GER target or one for another year (2026)."""
    f = tmp_path / "cons.csv"
    f.write_text("area,indicator,target_year,comparison,target,unit\n"
                 "511000,compulsory_consolidation_rate,2030,at_least,97,percent\n"
                 + (f"511000,preschool_ger_3y,{ger_year},at_least,93,percent\n"
                    if ger_year else ""), encoding="utf-8")
    cfg = _cfg(tmp_path, targets={"file": str(f)},
               enrolment={"rate_path": "trend", "consolidation_path": "target"})
    ts = engine.run(cfg).target_series
    c = ts[(ts[S.INDICATOR] == "compulsory_consolidation_rate") & (ts[S.AREA] == CITY)]
    by_year = c.groupby(S.YEAR)[S.VALUE].mean()
    c0 = by_year[2020]
    assert c0 < 97.0
    assert by_year[2026] == pytest.approx(c0 + (97.0 - c0) * 6 / 10)
    assert by_year[2030] == pytest.approx(97.0)
