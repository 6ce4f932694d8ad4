"""The jump-off at the latest observed year (issue 14 part 1): hand-computed factors on a tiny
two-area region, then the real Neijiang engine with a synthetic, labelled planner file
(tests/data/jumpoff/synthetic_neijiang_2021_2025.csv)."""

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
from njforecast.engine.jumpoff import (JumpOff, adjust_enrolment, adjust_indicators,
                                       anchor_factor, jump_off_from)
from njforecast.io.store import DataError
from njforecast.planning.targets import compare_to_targets, target_actuals

PLANNER = Path(__file__).resolve().parents[1] / "data" / "jumpoff" / \
    "synthetic_neijiang_2021_2025.csv"
CITY, ZIZHONG = "511000", "511025"
LEVELS = list(S.SCHOOL_LEVELS)


# --- a hand-made region: two areas and their sum ------------------------------------------


def _obs(rows):
    return pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])


def test_anchor_factor_by_hand():
    """x = 100, 110, 120, 130 from 2020; observed 2022 = 90: the factor is 1 before, 0.75 at
    2022 and after (the series continues from the observation by its own relative change)."""
    x = np.array([[100.0], [110.0], [120.0], [130.0]])
    g, seen = anchor_factor(x, {2022: 90.0}, 2020)
    np.testing.assert_allclose((x * g)[:, 0], [100, 110, 90, 130 * 0.75])
    assert seen.tolist() == [False, False, True, False]


def test_tiny_region_county_and_city_series():
    """Area A observed in 2021 (50 instead of 60); the city observed in 2022 (200): area B
    (no own series) takes the rest, 200 − A(2022), and the city is their sum."""
    codes = ("A", "B", "C")
    T, L = 4, len(LEVELS)
    E = np.zeros((3, L, T, 1))
    E[0, 1, :, 0] = [55, 60, 70, 80]    # primary, area A
    E[1, 1, :, 0] = [100, 110, 120, 130]  # primary, area B
    E[2] = E[0] + E[1]
    jump = jump_off_from(_obs([("A", 2021, "primary_enrolment", 50.0),
                               ("C", 2022, "primary_enrolment", 200.0)]),
                         codes, 2020, 2023)
    assert jump.year == 2022
    out, mask, _ = adjust_enrolment(E, jump, codes, 2020,
                                    lambda x: np.concatenate([x, x.sum(0, keepdims=True)]))
    a = [55, 50, 70 * 50 / 60, 80 * 50 / 60]
    np.testing.assert_allclose(out[0, 1, :, 0], a)
    b22 = 200 - a[2]
    np.testing.assert_allclose(out[1, 1, :, 0], [100, 110, b22, 130 * b22 / 120])
    np.testing.assert_allclose(out[2, 1, :, 0], out[0, 1, :, 0] + out[1, 1, :, 0])
    assert out[2, 1, 2, 0] == pytest.approx(200.0)
    assert mask[0, 1].tolist() == [False, True, False, False]
    assert mask[2, 1].tolist() == [False, False, True, False]
    assert not mask[:, [0, 2, 3, 4]].any()  # other levels untouched
    np.testing.assert_array_equal(out[:, [0, 2, 3, 4]], E[:, [0, 2, 3, 4]])


def test_city_total_below_its_areas_own_series_is_a_named_error():
    """A city count smaller than the areas' own series would leave the other areas negative:
    it is refused, naming the area, year and both numbers (synthetic tiny region)."""
    codes = ("A", "B", "C")
    E = np.zeros((3, len(LEVELS), 3, 1))
    E[0, 1, :, 0] = [100, 110, 120]
    E[1, 1, :, 0] = [100, 110, 120]
    E[2] = E[0] + E[1]
    jump = jump_off_from(_obs([("A", 2021, "primary_enrolment", 150.0),
                               ("C", 2021, "primary_enrolment", 120.0)]), codes, 2020, 2022)
    with pytest.raises(DataError, match=r"primary enrolment of C in 2021 \(120\) is below the "
                                        r"sum of its areas' own series \(150\)"):
        adjust_enrolment(E, jump, codes, 2020,
                         lambda x: np.concatenate([x, x.sum(0, keepdims=True)]))


def test_tiny_region_ger_and_consolidation():
    """A GER re-based by its ratio at the observed year; consolidation shifted by the
    difference, capped at 100, the same for every area."""
    codes = ("A", "C")
    ger = np.array([[[80.0], [82.0], [84.0]], [[80.0], [82.0], [84.0]]])
    cons = np.broadcast_to(np.array([[95.0], [96.0], [97.0]])[None], (2, 3, 1)).copy()
    vals = {"preschool_ger_3y": ger.copy(), "compulsory_consolidation_rate": cons}
    qual = {k: np.full((2, 3), "estimated", dtype=object) for k in vals}
    jump = JumpOff(year=2021, census_year=2020, values={
        ("ger", "C", "preschool_ger_3y"): {2021: 86.1},
        ("consolidation", "C", "compulsory_consolidation_rate"): {2021: 99.5}})
    adjust_indicators(vals, qual, jump, codes, 2020, np.zeros((2, len(LEVELS), 3), bool))
    np.testing.assert_allclose(vals["preschool_ger_3y"][1, :, 0], [80, 86.1, 84 * 86.1 / 82])
    np.testing.assert_allclose(vals["preschool_ger_3y"][0, :, 0], [80, 82, 84])
    np.testing.assert_allclose(vals["compulsory_consolidation_rate"][:, :, 0],
                               [[95, 99.5, 100.0]] * 2)
    assert qual["preschool_ger_3y"][1].tolist() == ["estimated", "observed", "estimated"]


def test_jump_off_setting_and_bad_years():
    """A fixed jump-off ignores later rows; observations after the end year are an error."""
    obs = _obs([("A", 2021, "primary_enrolment", 1.0), ("A", 2025, "primary_enrolment", 2.0)])
    assert jump_off_from(obs, ("A", "C"), 2020, 2030).series == {
        ("enrolment", "A", "primary"): 2025}
    fixed = jump_off_from(obs, ("A", "C"), 2020, 2030, setting=2022)
    assert fixed.year == 2022 and fixed.values == {("enrolment", "A", "primary"): {2021: 1.0}}
    assert jump_off_from(obs, ("A", "C"), 2020, 2030, setting=2020).values == {}
    with pytest.raises(DataError, match="after the end year 2024.*set end_year to 2025"):
        jump_off_from(obs, ("A", "C"), 2020, 2024, where="f.csv")


# --- the real Neijiang engine with the synthetic planner file ------------------------------


def _cfg(tmp, planner=None, jump_off="latest", **sections):
    data = {"data": {"observations": str(planner)}} if planner else {}
    return RunConfig(name="t", end_year=2030, draws=20, seed=7, jump_off=jump_off,
                     output_dir=str(tmp / "out"), tracking_uri=f"sqlite:///{tmp / 'm.db'}",
                     sections={"enrolment": {"rate_path": "trend", "consolidation_path": "trend"},
                               "teachers": {"method": "area_ratio",
                                            "base_supply": "province_ratio"},
                               **data, **sections})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jo")
    return {"plain": engine.run(_cfg(tmp)), "latest": engine.run(_cfg(tmp, PLANNER)),
            "fixed": engine.run(_cfg(tmp, PLANNER, jump_off=2020)),
            "plain2020": engine.run(_cfg(tmp, jump_off=2020))}


def _idx(res, code):
    return res.projection.codes.index(code)


def test_observed_values_unchanged_at_jump_off_and_flagged(runs):
    """Every synthetic value appears as is (all draws) with quality observed."""
    res = runs["latest"]
    p = res.projection
    obs = pd.read_csv(PLANNER, dtype={S.AREA: str})
    j = {int(y): i for i, y in enumerate(p.years)}
    level = {"kindergarten_children": "preschool", "primary_enrolment": "primary"}
    ind = {"preschool_ger_pct": "preschool_ger_3y", "senior_stage_ger_pct": "senior_stage_ger",
           "compulsory_consolidation_pct": "compulsory_consolidation_rate"}
    for r in obs.itertuples():
        a = _idx(res, r.area)
        if r.indicator in level:
            li = LEVELS.index(level[r.indicator])
            np.testing.assert_allclose(p.enrolment[a, li, j[r.year]], r.value, rtol=1e-12)
            q = res.enrolment
            q = q[(q[S.AREA] == r.area) & (q[S.YEAR] == r.year) & (q[S.LEVEL] == level[
                r.indicator])]
            assert (q[S.QUALITY] == "observed").all()
        else:
            np.testing.assert_allclose(p.indicators[ind[r.indicator]][a, j[r.year]], r.value,
                                       rtol=1e-12)
            assert p.indicator_quality[ind[r.indicator]][a, j[r.year]] == "observed"
    row = res.assumptions.set_index("name").loc["jump_off"]
    assert row[S.VALUE] == "2025" and "enrolment 511025 primary: 2025" in row["note"]


def test_first_projected_year_continues_from_the_observation(runs):
    """After 2025 each series moves by the projection's own relative change: enrolment by
    rate path × band population, the GER by enrolment / band population, consolidation by
    the census-based path's difference (it does not depend on population)."""
    res, plain = runs["latest"].projection, runs["plain"].projection
    j = 2025 - 2020
    a, li, bi = _idx(runs["latest"], ZIZHONG), LEVELS.index("primary"), 1
    m = res.rate_mult.area.get((ZIZHONG, "primary"), res.rate_mult.level["primary"])
    P = res.band_population[a, bi]
    np.testing.assert_allclose(res.enrolment[a, li, j + 1] / res.enrolment[a, li, j],
                               m[:, j + 1] * P[j + 1] / (m[:, j] * P[j]), rtol=1e-10)
    E, Pp = res.enrolment[-1, 0], res.band_population[-1, 0]  # city preschool
    g = res.indicators["preschool_ger_3y"][-1]
    np.testing.assert_allclose(g[j], 91.4)
    np.testing.assert_allclose(g[j + 1] / g[j], E[j + 1] / Pp[j + 1] / (E[j] / Pp[j]),
                               rtol=1e-10)
    c = plain.indicators["compulsory_consolidation_rate"][-1]
    np.testing.assert_allclose(res.indicators["compulsory_consolidation_rate"][-1, j + 1],
                               np.minimum(c[j + 1] + 97.2 - c[j], np.maximum(100, c[j + 1])))


def test_population_to_the_jump_off_is_fixed_in_every_draw_and_scenario(runs, tmp_path):
    """Years ≤ 2025: one path (the config's assumptions), whatever the draw or the scenario's
    fertility multiplier; after it the scenario's own projection moves on."""
    from njforecast.planning.scenarios import Scenario

    state = st.state_for(_cfg(tmp_path.parent / "x", PLANNER))
    base = runs["latest"].projection.population
    low = engine.project(state, Scenario(name="low", fertility_multiplier=0.5)).population
    np.testing.assert_array_equal(base[..., :6, :], low[..., :6, :])
    assert np.ptp(base[..., :6, :], axis=-1).max() == 0
    assert not np.allclose(base[:, :, 0, 6:], low[:, :, 0, 6:])
    assert np.ptp(base[..., 7, :], axis=-1).max() > 0


def test_tiny_resident_population_alignment():
    """Area A observed at 2021 as 330 where its projected total is 300: every age ×1.1 from
    2021; in 2022 each cohort keeps its 2021 ratio to the scenario's own path."""
    from njforecast.engine.jumpoff import align_population

    pop = np.arange(1, 1 + 1 * 2 * 3 * 3, dtype=float).reshape(1, 2, 3, 3, 1)
    fixed = pop[:, :, :, :2] * 0.9
    totals = np.array([[280.0, 300.0]])
    jump = JumpOff(year=2021, census_year=2020,
                   values={("population", "A", "resident_population"): {2021: 330.0}})
    out = align_population(pop, fixed, totals, jump, ("A", "C"), 2020)
    np.testing.assert_allclose(out[..., 0, :], fixed[..., 0, :])
    np.testing.assert_allclose(out[..., 1, :], fixed[..., 1, :] * 1.1)
    r = out[:, :, :, 1] / pop[:, :, :, 1]  # (1, 2, age, 1)
    np.testing.assert_allclose(out[:, :, 1:, 2], pop[:, :, 1:, 2] * r[:, :, :2])
    np.testing.assert_allclose(out[:, :, 0, 2], pop[:, :, 0, 2])


def test_a_changed_observation_changes_only_what_depends_on_it(runs, tmp_path):
    """Zizhong's 2025 primary enrolment 40,000 → 41,000: only Zizhong's and the city's primary
    (and what is computed from them) move; every other area and level is identical."""
    obs = pd.read_csv(PLANNER, dtype={S.AREA: str})
    obs.loc[(obs[S.AREA] == ZIZHONG) & (obs[S.YEAR] == 2025), S.VALUE] = 41000
    f = tmp_path / "changed.csv"
    obs.to_csv(f, index=False)
    new = engine.run(_cfg(tmp_path, f)).projection
    old = runs["latest"].projection
    a, li = _idx(runs["latest"], ZIZHONG), LEVELS.index("primary")
    diff = ~np.isclose(new.enrolment, old.enrolment, rtol=0, atol=0).all(axis=-1)
    moved = {(new.codes[i], LEVELS[k], int(new.years[t]))
             for i, k, t in zip(*np.nonzero(diff), strict=True)}
    assert moved == {(c, "primary", y) for c in (ZIZHONG, CITY) for y in range(2025, 2031)}
    np.testing.assert_allclose(new.enrolment[a, li, 5], 41000.0)
    for ind in ("preschool_ger_3y", "senior_stage_ger", "junior_ger"):
        np.testing.assert_array_equal(new.indicators[ind], old.indicators[ind])


def test_no_look_ahead_with_an_earlier_jump_off(runs, tmp_path):
    """jump_off = 2020: the 2021–2025 rows are not used — every projected number equals the
    run with the same jump-off and no planner file, and changing a 2025 value changes none of
    them."""
    plain, fixed = runs["plain2020"].projection, runs["fixed"].projection
    np.testing.assert_array_equal(fixed.enrolment, plain.enrolment)
    for k in plain.indicators:
        np.testing.assert_array_equal(fixed.indicators[k], plain.indicators[k])
    obs = pd.read_csv(PLANNER, dtype={S.AREA: str})
    obs.loc[obs[S.YEAR] == 2025, S.VALUE] *= 0.9
    f = tmp_path / "changed.csv"
    obs.to_csv(f, index=False)
    again = engine.run(_cfg(tmp_path, f, jump_off=2020)).projection
    np.testing.assert_array_equal(again.enrolment, fixed.enrolment)
    for name in plain.teachers:
        np.testing.assert_array_equal(again.teachers[name], fixed.teachers[name])


def test_an_explicit_jump_off_cuts_the_bundled_series_the_paths_read(runs, tmp_path):
    """jump_off = 2020: trend parameters, ceilings and ratio paths read bundled series dated
    ≤ 2020 only (the 2021–2025 rows are what an ex-post scores); "latest" reads them all. The
    province's preschool GER ≤ 2020 stays below Neijiang's base, so that band is capped at its
    base (a data ceiling the city already exceeds), and the run says so; births too are read
    to 2020 only."""
    cut = st.state_for(_cfg(tmp_path, jump_off=2020)).series_obs
    full = st.state_for(_cfg(tmp_path)).series_obs
    assert cut[S.YEAR].max() == 2020 and full[S.YEAR].max() > 2020
    assert len(cut) == (full[S.YEAR] <= 2020).sum()
    rows = runs["fixed"].assumptions.set_index("name")
    assert "capped at its base" in rows.loc["trend_ceiling_preschool", "note"]
    # observed births are read to the jump-off year only (births_until); "latest" reads on
    assert st.state_for(_cfg(tmp_path, jump_off=2020)).inputs.last_observed == 2020
    assert st.state_for(_cfg(tmp_path)).inputs.last_observed > 2020
    assert "trend_ceiling_preschool" not in set(runs["latest"].assumptions["name"])


def test_ex_post_2025_rows_from_the_earlier_jump_off(runs):
    """With jump_off = 2020 the 2025 observations are the actuals of the ex-post columns."""
    res = runs["fixed"]
    targets = pd.DataFrame({S.AREA: [CITY], S.INDICATOR: ["preschool_ger_3y"],
                            S.TARGET_YEAR: [2025], S.COMPARISON: ["at_least"],
                            S.TARGET: [92.0], S.UNIT: ["percent"]})
    gaps = compare_to_targets(res.target_series, targets,
                              actuals=target_actuals(pd.read_csv(PLANNER, dtype={S.AREA: str}),
                                                     None))
    row = gaps.iloc[0]
    v = res.target_series
    v = v[(v[S.AREA] == CITY) & (v[S.INDICATOR] == "preschool_ger_3y") & (v[S.YEAR] == 2025)]
    lo80, hi80 = np.quantile(v[S.VALUE], [0.1, 0.9])
    assert row[S.ACTUAL] == 91.4 and row[S.MET] is False
    assert row[S.IN_80] == bool(lo80 <= 91.4 <= hi80)
    assert res.assumptions.set_index("name").loc["jump_off", S.VALUE] == "2020"


def test_targets_for_2030_get_p_meet_from_the_draws(runs):
    """The 2030 preschool-GER target after the 2025 jump-off: p_meet = share of draws ≥ 91.6."""
    res = runs["latest"]
    targets = pd.DataFrame({S.AREA: [CITY], S.INDICATOR: ["preschool_ger_3y"],
                            S.TARGET_YEAR: [2030], S.COMPARISON: ["at_least"],
                            S.TARGET: [91.6], S.UNIT: ["percent"]})
    gaps = compare_to_targets(res.target_series, targets)
    v = res.target_series
    v = v[(v[S.AREA] == CITY) & (v[S.INDICATOR] == "preschool_ger_3y") & (v[S.YEAR] == 2030)]
    assert gaps.iloc[0][S.P_MEET] == pytest.approx((v[S.VALUE] >= 91.6).mean())
    assert 0 < gaps.iloc[0][S.P_MEET] < 1


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    """Observations after the end year, and a target year before the jump-off year: each a
    named error, exit 2, no output folder."""
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'name = "t"\nend_year = 2024\ndraws = 5\noutput_dir = "{out}"\n'
                   f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg), "--observations", str(PLANNER),
                                   "--no-scenarios"])
    assert res.exit_code == 2 and "after the end year 2024" in res.output, res.output
    assert not out.exists()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("2024", "2030"), encoding="utf-8")
    tg = tmp_path / "t.csv"
    tg.write_text("area,indicator,target_year,comparison,target,unit\n"
                  "511000,preschool_ger_3y,2023,at_least,90,percent\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg), "--observations", str(PLANNER),
                                   "--targets", str(tg), "--no-scenarios"])
    assert res.exit_code == 2 and "2023" in res.output and "2025" in res.output, res.output
    assert not out.exists()
    with pytest.raises(DataError):
        st.build_state(RunConfig(end_year=2024, sections={"data": {
            "observations": str(PLANNER)}}))


def test_resident_population_aligns_the_area_at_every_age(runs, tmp_path):
    """A (synthetic) Zizhong resident population for 2023 scales every age and sex of Zizhong
    by one ratio from 2023 to the jump-off year; 2020–2022 and the other areas are unchanged."""
    obs = pd.read_csv(PLANNER, dtype={S.AREA: str})
    row = {S.AREA: ZIZHONG, S.YEAR: 2023, S.INDICATOR: "resident_population",
           S.VALUE: 800000, "unit": "persons", "source": "SYNTHETIC test data",
           "source_note": "made up for tests"}
    f = tmp_path / "with_population.csv"
    pd.concat([obs, pd.DataFrame([row])]).to_csv(f, index=False)
    new = engine.run(_cfg(tmp_path, f)).projection.population
    old = runs["latest"].projection.population
    a = _idx(runs["latest"], ZIZHONG)
    ratio = new[a, :, :, 3:6] / old[a, :, :, 3:6]
    assert np.ptp(ratio) < 1e-12 and abs(ratio.flat[0] - 1) > 1e-3
    np.testing.assert_array_equal(new[a, :, :, :3], old[a, :, :, :3])
    others = [i for i in range(new.shape[0]) if i != a]
    np.testing.assert_array_equal(new[others], old[others])
    assert "population 511025 resident_population: 2023" in engine.run(
        _cfg(tmp_path, f)).assumptions.set_index("name").loc["jump_off", "note"]


def test_teacher_counts_are_the_stock_and_recalibrate_the_ratio(runs, tmp_path):
    """A (synthetic) Zizhong primary teacher count for 2025: supply = demand = that count in
    2025 (the area's pupil–teacher ratio re-calibrated there, quality observed); later demand
    = enrolment / the re-calibrated ratio; other areas' teachers unchanged."""
    obs = pd.read_csv(PLANNER, dtype={S.AREA: str})
    row = {S.AREA: ZIZHONG, S.YEAR: 2025, S.INDICATOR: "primary_teachers", S.VALUE: 2500,
           "unit": "persons", "source": "SYNTHETIC test data", "source_note": "made up"}
    f = tmp_path / "with_teachers.csv"
    pd.concat([obs, pd.DataFrame([row])]).to_csv(f, index=False)
    res = engine.run(_cfg(tmp_path, f))
    t, old = res.projection.teachers, runs["latest"].projection.teachers
    a, li, j = _idx(res, ZIZHONG), LEVELS.index("primary"), 5
    np.testing.assert_allclose(t[S.SUPPLY][a, li, j], 2500.0)
    np.testing.assert_allclose(t[S.DEMAND][a, li, j], 2500.0)
    r = t[S.ENROLMENT][a, li, j] / 2500.0
    np.testing.assert_allclose(t[S.RATIO][a, li, j + 1], r, rtol=1e-12)  # area_ratio held
    others = [i for i in range(len(res.projection.codes) - 1) if i != a]
    np.testing.assert_array_equal(t[S.DEMAND][others], old[S.DEMAND][others])
    q = res.teachers
    q = q[(q[S.AREA] == ZIZHONG) & (q[S.LEVEL] == "primary")]
    assert set(q.loc[q[S.YEAR] == 2025, S.QUALITY]) == {"observed"}
    assert set(q.loc[q[S.YEAR] != 2025, S.QUALITY]) == {"estimated"}


def test_jump_off_option_is_checked(tmp_path):
    """`--jump-off` takes "latest" or a year inside base_year..end_year (exit 2 otherwise)."""
    from njforecast.config import ConfigError, with_jump_off

    cfg = RunConfig(end_year=2030)
    assert with_jump_off(cfg, "2024").jump_off == 2024
    assert with_jump_off(cfg, "latest").jump_off == "latest"
    for bad in ("2019", "2031", "soon"):
        with pytest.raises(ConfigError, match="jump_off"):
            with_jump_off(cfg, bad)
    out = tmp_path / "out"
    c = tmp_path / "c.toml"
    c.write_text(f'name = "t"\nend_year = 2030\noutput_dir = "{out}"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(c), "--jump-off", "2040"])
    assert res.exit_code == 2 and "--jump-off: jump_off = 2040" in res.output, res.output
    assert not out.exists()


def test_planner_values_are_history_in_the_charts(runs):
    """The overlay of observed target values (fan charts) holds the planner's values; the run
    without a planner file has none of them."""
    o = runs["latest"].observed_targets()
    mine = o[(o[S.AREA] == CITY) & (o[S.INDICATOR] == "preschool_ger_3y") & (o[S.YEAR] > 2020)]
    assert dict(zip(mine[S.YEAR], mine[S.VALUE], strict=True)) == {
        2021: 89.4, 2022: 90.0, 2023: 90.6, 2024: 91.0, 2025: 91.4}
    p = runs["plain"].observed_targets()
    assert p[(p[S.INDICATOR] == "preschool_ger_3y") & (p[S.YEAR] > 2020)].empty
