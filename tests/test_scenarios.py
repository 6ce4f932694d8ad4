"""Tests for njforecast.planning.scenarios: presets from data, TOML round trip, validation messages."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.planning import scenarios as sc
from njforecast import schema as S
from njforecast.config import RunConfig
from njforecast.io.plan import load_plan_targets
from njforecast.io.store import load_standards


def test_presets_cover_the_issue_list_and_read_caps_from_standards():
    """All nine presets exist; the class caps are the standards table's 45 and 50."""
    p = sc.presets(load_standards(), load_plan_targets(), 2020)
    assert set(p) == {"baseline", "low_fertility", "high_fertility", "high_out_migration",
                      "status_quo_rates", "plan_targets_2025", "ratios_held",
                      "national_staffing", "class_caps_45_50"}
    assert p["status_quo_rates"].overrides() == {"rate_path": "hold"}
    assert p["class_caps_45_50"].class_size_cap_primary == 45.0
    assert p["class_caps_45_50"].class_size_cap_junior == 50.0
    assert p["plan_targets_2025"].reach_targets_by == 2025
    assert p["baseline"].overrides() == {}
    assert p["low_fertility"].overrides() == {"fertility_multiplier": 0.8}


def test_toml_round_trip(tmp_path):
    """A scenario written with to_toml reads back equal."""
    s = sc.Scenario("my-case", "Births −30 %, caps 40", fertility_multiplier=0.7,
                    class_size_cap_primary=40, end_year=2040, draws=50)
    f = tmp_path / "my.toml"
    f.write_text(s.to_toml(), encoding="utf-8")
    assert sc.load_scenario(f) == s
    assert sc.get_scenario(f, {}) == s


def test_toml_scenario_table_and_default_name(tmp_path):
    """Fields under [scenario] are read; the file stem is the default name."""
    f = tmp_path / "births_down.toml"
    f.write_text("[scenario]\nfertility_multiplier = 0.75\n", encoding="utf-8")
    s = sc.load_scenario(f)
    assert s.name == "births_down" and s.fertility_multiplier == 0.75


def test_unknown_field_is_named(tmp_path):
    """An unknown field in a file is rejected with the file and field in the message."""
    f = tmp_path / "bad.toml"
    f.write_text("name = 'x'\nfertility = 0.8\n", encoding="utf-8")
    with pytest.raises(sc.ScenarioError, match=r"bad.toml.*unknown field.*fertility"):
        sc.load_scenario(f)


def test_unknown_field_suggests_nearest(tmp_path):
    """A misspelt field in a scenario file is named with the nearest known field."""
    f = tmp_path / "typo.toml"
    f.write_text("fertility_multiplyer = 0.8\nzzz = 1\n", encoding="utf-8")
    with pytest.raises(sc.ScenarioError) as exc:
        sc.load_scenario(f)
    msg = str(exc.value)
    assert msg.startswith(f"{f}: ")
    assert "unknown field 'fertility_multiplyer'; did you mean 'fertility_multiplier'?" in msg
    assert "unknown field 'zzz'; known fields: name, description" in msg


@pytest.mark.parametrize("field,value,words", [
    ("end_year", 2051, "out of range"),
    ("draws", sc.MAX_DRAWS + 1, "out of range"),
    ("fertility_multiplier", -1.0, "out of range"),
    ("fertility_multiplier", "high", "must be float"),
    ("staffing_standard", "nordic", "not one of"),
])
def test_bad_values_are_rejected(field, value, words):
    """Out-of-range or wrong-typed values raise a ScenarioError naming the field."""
    with pytest.raises(sc.ScenarioError, match=words) as exc:
        sc.scenario_from_dict({"name": "x", field: value})
    assert field in str(exc.value)


def test_unknown_preset_lists_presets():
    """An unknown name lists the presets."""
    with pytest.raises(sc.ScenarioError, match="baseline"):
        sc.get_scenario("no_such_scenario", sc.presets(load_standards(), load_plan_targets(), 2020))


def test_apply_to_config_overrides_only_named_fields():
    """Horizon and draws come from the scenario when set; the scenario is recorded in sections."""
    cfg = RunConfig(end_year=2035, draws=200, seed=1)
    out = sc.apply_to_config(cfg, sc.Scenario("x", end_year=2040))
    assert (out.end_year, out.draws, out.seed) == (2040, 200, 1)
    assert out.section("scenario")["name"] == "x"
    assert cfg.sections == {}  # the original config is untouched


def test_comparison_table_diff_vs_baseline():
    """Synthetic summaries: the difference to baseline is mean minus the baseline mean."""
    def summ(v):
        return pd.DataFrame({S.AREA: ["511000"] * 2, S.YEAR: [2025, 2040],
                             S.INDICATOR: ["primary_enrolment"] * 2, S.MEAN: [v, v],
                             S.LO80: [v - 1, v - 1], S.HI80: [v + 1, v + 1]})
    t = sc.comparison_table({"baseline": summ(100.0), "low": summ(90.0)})
    assert list(t[S.SCENARIO]) == ["baseline", "low"]  # 2040 dropped, baseline first
    assert list(t["diff_vs_baseline"]) == [0.0, -10.0]


@settings(max_examples=50, deadline=None)
@given(st.floats(0.3, 2.0), st.floats(0.0, 3.0), st.integers(2021, 2050), st.integers(0, 1000))
def test_any_valid_scenario_round_trips(fm, mm, end, draws):
    """Every in-range scenario survives to_toml → load unchanged."""
    import tomllib

    s = sc.Scenario("p", fertility_multiplier=fm, migration_multiplier=mm, end_year=end,
                    draws=draws)
    assert sc.scenario_from_dict(tomllib.loads(s.to_toml())) == s
