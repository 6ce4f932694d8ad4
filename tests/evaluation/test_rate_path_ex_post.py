"""The ex-post check of the rate paths (issue 14 part 6): a hand-computed case on the tiny
synthetic region, the no-look-ahead rule, and the real Sichuan experiment through the CLI."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from njforecast import schema as S
from njforecast.areas import load_region
from njforecast.cli import app
from njforecast.evaluation.ex_post import rate_path_ex_post

TINY = load_region(Path(__file__).resolve().parents[1] / "data" / "tiny_region.toml")
ROOT = Path(__file__).resolve().parents[2]
#: fixed parameters: no damping, no drift, ceilings out of the way (hand-computable paths)
FIXED = {"damping": 1.0, "drift_sd": 0.0, "consolidation_damping": 1.0,
         "consolidation_drift_sd": 0.0,
         "ceilings": {"preschool": 100.0, "senior": 100.0,
                      "compulsory_consolidation_rate": 100.0}}


def _obs(rows):
    """SYNTHETIC observations for the tiny region 900000 (made up for tests)."""
    return pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])


BASE = _obs([("900000", 2015, "preschool_ger_pct", 80.0), ("900000", 2020, "preschool_ger_pct", 85.0),
             ("900000", 2018, "senior_stage_ger_pct", 90.0),
             ("900000", 2020, "senior_stage_ger_pct", 91.0),
             ("900000", 2020, "compulsory_consolidation_pct", 95.0)])
ACTUAL = _obs([("900000", 2025, "preschool_ger_pct", 90.0),
               ("900000", 2025, "senior_stage_ger_pct", 94.0),
               ("900000", 2024, "compulsory_consolidation_pct", 95.0)])


def test_hand_computed_paths_and_inside_flags():
    """Preschool: slope (85 − 80)/5 = 1 a year → 90 in 2025 (= actual: inside, inclusive).
    Senior: slope (91 − 90)/2 = 0.5 (window 2) → 93.5 (actual 94: outside). Consolidation: no
    earlier value → held at 95 (2024 actual 95: inside)."""
    t, notes = rate_path_ex_post(TINY, BASE, ACTUAL, 2020, 2025, 10, 1, FIXED)
    t = t.set_index(S.INDICATOR)
    assert t.loc["preschool_ger_3y", S.MEAN] == pytest.approx(90.0)
    assert t.loc["preschool_ger_3y", "slope_window"] == 5
    assert bool(t.loc["preschool_ger_3y", "inside_80"])
    assert t.loc["senior_stage_ger", S.HI95] == pytest.approx(93.5)
    assert t.loc["senior_stage_ger", "slope_window"] == 2
    assert not t.loc["senior_stage_ger", "inside_95"]
    c = t.loc["compulsory_consolidation_rate"]
    assert c[S.YEAR] == 2024 and c[S.MEAN] == pytest.approx(95.0) and c["inside_80"]
    assert "mean held" in dict((n[0], n[3]) for n in notes)["ex_post_compulsory_consolidation_rate"]


def test_no_look_ahead():
    """Observations after the jump-off year change only the actual columns, never a path."""
    t0, _ = rate_path_ex_post(TINY, BASE, ACTUAL, 2020, 2025, 10, 1, FIXED)
    later = pd.concat([BASE, _obs([("900000", 2022, "preschool_ger_pct", 70.0)])])
    act = ACTUAL.assign(**{S.VALUE: ACTUAL[S.VALUE] - 3.0})
    t1, _ = rate_path_ex_post(TINY, later, act, 2020, 2025, 10, 1, FIXED)
    cols = [S.MEAN, S.LO80, S.HI80, S.LO95, S.HI95, "slope"]
    pd.testing.assert_frame_equal(t0[cols], t1[cols])
    assert (t1[S.ACTUAL] == t0[S.ACTUAL] - 3.0).all()


def test_missing_jump_off_value_is_named():
    with pytest.raises(ValueError, match="no compulsory_consolidation_pct for area 900000"):
        rate_path_ex_post(TINY, BASE[BASE[S.INDICATOR] != "compulsory_consolidation_pct"],
                          ACTUAL, 2020, 2025, 10, 1, FIXED)


def test_sichuan_experiment_via_the_cli(tmp_path):
    """The shipped config: the published 2025 values as actuals, 2020 values as jump-off."""
    cfg = tmp_path / "c.toml"
    text = (ROOT / "experiments" / "sichuan-expost" / "config.toml").read_text(encoding="utf-8")
    cfg.write_text(text.replace('output_dir = "outputs/sichuan-expost"',
                                f'output_dir = "{tmp_path / "out"}"').replace("draws = 1000",
                                                                             "draws = 200"),
                   encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "out" / "ex_post.csv", dtype={S.AREA: str}).set_index(S.INDICATOR)
    assert t[S.AREA].eq("510000").all() and t[S.YEAR].eq(2025).all()
    assert t[S.ACTUAL].to_dict() == {"preschool_ger_3y": 93.59, "senior_stage_ger": 94.95,
                                     "compulsory_consolidation_rate": 96.84}
    assert t["jump_off_value"].to_dict() == {"preschool_ger_3y": 90.93, "senior_stage_ger": 93.1,
                                             "compulsory_consolidation_rate": 95.86}
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("jump_off = 2020", 'jump_off = "latest"'),
                   encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg)])
    assert res.exit_code == 2 and "jump_off = YEAR" in res.output
