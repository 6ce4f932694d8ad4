"""The array engine against the frame-based reference pipeline (f13f3a3's stage functions)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from njforecast import engine
from njforecast.config import load_config
from njforecast.io.plan import load_plan_targets
from njforecast.planning.scenarios import Scenario
from njforecast.planning.targets import compare_to_targets


import reference  # the frame pipeline of f13f3a3 (tests/reference.py)


ROOT = Path(__file__).resolve().parents[2]


def _presets():
    """The presets of the bundled region and plan."""
    return engine.presets_for(load_config(ROOT / "experiments" / "neijiang-baseline" / "config.toml"))


@pytest.fixture(scope="module")
def cfg():
    c = load_config(ROOT / "experiments" / "neijiang-baseline" / "config.toml")
    return replace(c, draws=30, end_year=2027)


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    assert list(a.columns) == list(b.columns), what
    assert len(a) == len(b), what
    for c in a.columns:
        if pd.api.types.is_numeric_dtype(a[c]):
            x, y = a[c].to_numpy(float), b[c].to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), f"{what}.{c}"
            ok = ~np.isnan(x)
            np.testing.assert_allclose(y[ok], x[ok], rtol=1e-9, atol=1e-7, err_msg=f"{what}.{c}")
        else:
            assert (a[c].astype(str).to_numpy() == b[c].astype(str).to_numpy()).all(), \
                f"{what}.{c}"


SCENARIOS = ["baseline", "high_out_migration", "plan_targets_2025", "class_caps_45_50",
             "class_cap_primary_40"]


def _scenario(name: str):
    """A preset, or the class-caps preset with a primary cap other than the standard's."""
    if name == "class_cap_primary_40":
        return replace(_presets()["class_caps_45_50"], name=name, class_size_cap_primary=40.0)
    return _presets()[name]


@pytest.mark.parametrize("name", SCENARIOS)
def test_engine_matches_the_frame_reference(cfg, name):
    """Every output table of the engine equals the frame pipeline's (rel. 1e-9) for a preset
    (and a non-standard class cap)."""
    sc = _scenario(name)
    ref = reference.run(cfg, sc)
    new = engine.run(cfg, sc)
    targets = load_plan_targets()
    for key, table in ref.tables().items():
        _same(table, new.tables()[key], f"{name}:{key}")
    _same(ref.projection_summary(), new.projection_summary(), f"{name}:projection_summary")
    for attr in ("enrolment", "indicators", "teachers", "capacity", "target_series"):
        a, b = getattr(ref, attr), getattr(new, attr)
        _same(a[list(a.columns)], b[list(a.columns)], f"{name}:{attr}")
    order = [new.region.code, *[a.code for a in new.region.counties]]
    _same(compare_to_targets(ref.target_series, targets, years=[2025], area_order=order),
          compare_to_targets(new.target_series, targets, years=[2025], area_order=order),
          f"{name}:target_gaps")


def test_engine_matches_reference_without_draws_and_with_a_hiring_plan(cfg):
    """A point projection (no draw column) and a fixed hiring plan agree with the reference."""
    sc = Scenario("hire", hires_per_year=500.0, fertility_multiplier=0.8, draws=0)
    ref, new = reference.run(cfg, sc), engine.run(cfg, sc)
    assert "draw" not in new.enrolment.columns
    for key, table in ref.tables().items():
        if key == "population_school_age":
            # bug fixed: without draws the reference averaged the two sexes instead of adding
            np.testing.assert_allclose(new.tables()[key]["mean"], 2 * table["mean"], rtol=1e-12)
            continue
        if key == "teachers":  # without draws the reference kept the frame's row order
            keys = ["area", "year", "level"]
            table = table.sort_values(keys, kind="stable").reset_index(drop=True)
        _same(table, new.tables()[key], f"hire:{key}")
    _same(ref.target_series, new.target_series, "hire:target_series")


def test_city_is_the_sum_of_its_areas_draw_by_draw(cfg):
    """Enrolment, teacher demand and band population of the city equal the sum of its areas."""
    p = engine.run(cfg).projection
    for arr in (p.enrolment[:, :, 1:], p.teachers["demand"], p.band_population):
        np.testing.assert_allclose(arr[-1], arr[:-1].sum(axis=0), rtol=1e-12)


def test_the_jump_off_year_is_the_same_in_every_scenario(cfg):
    """Bug fixed: a scenario's migration multiplier no longer changes the jump-off year (the
    1 Sep base interpolated from a back step), so base enrolment by county is scenario-free."""
    base = engine.run(cfg).projection
    mig = engine.run(cfg, Scenario("mig", migration_multiplier=2.5)).projection
    np.testing.assert_array_equal(mig.population[..., 0, :], base.population[..., 0, :])
    np.testing.assert_array_equal(mig.enrolment[:, :, 0], base.enrolment[:, :, 0])
    assert not np.allclose(mig.population[..., -1, :], base.population[..., -1, :])
