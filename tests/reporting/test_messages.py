"""Key messages on a tiny HAND-MADE set of tables (not Neijiang's numbers): every expected
sentence below was worked out by hand from the frames built here."""

import pandas as pd
import pytest

from njforecast import schema as S
from njforecast.reporting.messages import key_messages, plan_periods

NAMES = {"en": {"C": "City", "A": "Alpha", "B": "Beta"},
         "zh": {"C": "市", "A": "甲县", "B": "乙县"}}


def _summary_rows(rows):
    """(area, year, level, mean, lo80, hi80) → frame with the table's summary columns."""
    df = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.LEVEL, S.MEAN, S.LO80, S.HI80])
    return df.assign(**{S.LO95: df[S.LO80], S.HI95: df[S.HI80], S.QUALITY: "estimated"})


@pytest.fixture
def tables():
    enrol = _summary_rows([
        ("C", 2020, "primary", 1000, 1000, 1000), ("C", 2030, "primary", 400, 350, 450),
        ("C", 2020, "junior", 500, 500, 500), ("C", 2030, "junior", 600, 550, 650),
        ("A", 2020, "primary", 600, 600, 600), ("A", 2030, "primary", 300, 280, 320),
        ("B", 2020, "primary", 400, 400, 400), ("B", 2030, "primary", 100, 92, 108)])
    cap = pd.DataFrame(
        [("C", 2020, "compulsory", 1500, 1500, 100.0, 100.0, 100.0),
         ("C", 2025, "compulsory", 1800, 1400, 77.8, 75.0, 80.0),
         ("C", 2030, "compulsory", 1800, 1000, 55.4, 50.2, 60.7),
         ("A", 2030, "compulsory", 1000, 400, 40.0, 35.0, 45.0),
         ("B", 2030, "compulsory", 800, 560, 70.0, 65.0, 75.0)],
        columns=[S.AREA, S.YEAR, S.LEVEL, S.SEATS, S.ENROLMENT, S.UTILISATION,
                 "utilisation_lo80", "utilisation_hi80"])
    teachers = pd.DataFrame([("C", 2020, "primary", 60.0), ("C", 2020, "junior", 40.0),
                             ("C", 2030, "primary", 50.0)],
                            columns=[S.AREA, S.YEAR, S.LEVEL, S.SUPPLY])
    summary = pd.DataFrame([("C", 2030, "teacher_demand", 80.0, 70.0, 90.0)],
                           columns=[S.AREA, S.YEAR, S.INDICATOR, S.MEAN, S.LO80, S.HI80])
    gaps = pd.DataFrame(
        [("C", "ger", "毛入学率", 2025, 2025, 90.0, "at_least", "percent", 85.3, 80.0, 88.0,
          85.3 - 90, 0.1, "off_track", 10),
         ("C", "teachers_added_2021_2025", "补充教师", 2025, 2025, 50.0, "at_least", "persons",
          30.0, 20.0, 40.0, -20.0, 1.0, "target_above_need", 10),
         ("C", "cons", "巩固率", 2025, 2025, 95.0, "at_least", "percent", 95.5, 95.1, 96.0,
          0.5, 0.9, "on_track", 10),
         ("C", "cons", "巩固率", 2025, 2030, 95.0, "at_least", "percent", 90.0, 89.0, 91.0,
          -5.0, 0.0, "off_track", 10),
         ("C", "share", "占比", 2025, 2025, 50.0, "at_least", "percent", None, None, None,
          None, None, "not_projectable", 0)],
        columns=[S.AREA, S.INDICATOR, S.INDICATOR_ZH, S.TARGET_YEAR, S.YEAR, S.TARGET,
                 S.COMPARISON, S.UNIT, S.PROJECTED_MEAN, S.PROJECTED_LO80, S.PROJECTED_HI80,
                 S.GAP, S.P_MEET, S.STATUS, S.N_DRAWS])
    return {"enrolment": enrol, "capacity": cap, "teachers": teachers}, summary, gaps


EXPECTED = {
    "en": [
        "Primary enrolment falls 60% from 2020 to 2030: 1,000 → 400 (80% interval 350–450; "
        "change −65% to −55%); junior secondary rises 20% (500 → 600, 80% interval 550–650).",
        "Seats planned 2021–2025: 300 compulsory (primary + junior). Seat utilisation in 2030: "
        "compulsory (primary + junior) 55% (80% interval 50%–61%).",
        "Teachers needed in 2030 (all levels): 80 (80% interval 70–90), against 100 in post in "
        "2020 (estimated): 20 fewer.",
        "Plan targets for 2025: 2 of 3 projectable on track; needing action: ger 85.3 (80% "
        "interval 80.0–88.0) against ≥90, short by 4.7 (off track, chance of meeting it 10%).",
        "By county, primary enrolment changes −75% (Beta, 80% interval −77% to −73%) to −50% "
        "(Alpha, 80% interval −53% to −47%) from 2020 to 2030; "
        "compulsory seat utilisation in 2030 ranges from 40% (Alpha, 80% interval 35%–45%) to "
        "70% (Beta, 80% interval 65%–75%).",
    ],
    "zh": [
        "小学在校生2020—2030年减少60%：1,000人 → 400人（80%区间 350–450人；变化 −65%至−55%）；"
        "初中增加20%（500人 → 600人，80%区间 550–650人）。",
        "2021—2025年规划新增学位：义务教育300个。2030年学位使用率：义务教育55%（80%区间 50%–61%）。",
        "2030年所需教师（全部学段）80人（80%区间 70–90人），2020年在岗教师100人（估计）：少20人。",
        "2025年规划目标：3项可预测目标中2项有望达成；需关注：毛入学率预测85.3（80%区间 80.0–88.0），"
        "目标≥90，差4.7（难以达成，达标概率10%）。",
        "2020—2030年各区县小学在校生变化不一：−75%（乙县，80%区间 −77%至−73%）至−50%"
        "（甲县，80%区间 −53%至−47%）；2030年义务教育学位使用率"
        "从40%（甲县，80%区间 35%–45%）到70%（乙县，80%区间 65%–75%）。",
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_key_messages_match_hand_computed_sentences(tables, lang):
    """Each sentence equals the one worked out by hand: −60 % = 400/1000 − 1, seats
    1800 − 1500 = 300 over 2021–2025 (the period of teachers_added_2021_2025), 2030 = end of
    the next five-year period, 80 − 100 = 20 fewer teachers, counties −75 % (100/400 − 1) and
    −50 % (300/600 − 1) with intervals 92/400 − 1 = −77 %, 108/400 − 1 = −73 %, 280/600 − 1 =
    −53 %, 320/600 − 1 = −47 %; only the projectable 2025 targets count (3, of which 2 are fine)."""
    t, summary, gaps = tables
    got = key_messages(t, summary, gaps, "C", NAMES[lang], lang, jump_off=2020)
    assert got == EXPECTED[lang]


def test_key_messages_follow_the_numbers(tables):
    """A different input gives a different sentence (nothing hard-coded), and a year with every
    target met says so; a start with draw spread gives no change interval."""
    t, summary, gaps = tables
    t["enrolment"].loc[1, [S.MEAN, S.LO80, S.HI80]] = [700, 650, 750]
    t["enrolment"].loc[0, S.HI80] = 1010  # the jump-off value now varies across draws
    gaps = gaps.assign(**{S.STATUS: gaps[S.STATUS].replace("off_track", "on_track")})
    got = key_messages(t, summary, gaps, "C", NAMES["en"], "en", jump_off=2020)
    assert got[0].startswith("Primary enrolment falls 30% from 2020 to 2030: 1,000 → 700 "
                             "(80% interval 650–750); junior")
    assert got[3] == "All 3 projectable plan targets for 2025 are on track."


def test_plan_periods_come_from_the_targets():
    """The plan period ends in the first target year; a period id sets its start, otherwise
    it starts after the jump-off; the next period has the same length, capped at the horizon."""
    g = pd.DataFrame({S.INDICATOR: ["ger", "teachers_added_2026_2030"],
                      S.TARGET_YEAR: [2030, 2030]})
    assert plan_periods(g, 2020, 2040) == ((2026, 2030), (2031, 2035))
    assert plan_periods(g.iloc[:1], 2020, 2033) == ((2021, 2030), (2031, 2033))


def test_plan_period_starts_after_a_later_jump_off():
    """With series to 2025 (jump-off 2025) the 2025 targets are history: the plan period is
    2026–2030 and the next one 2031–2035, not 2021–2025."""

    gaps = pd.DataFrame({S.INDICATOR: ["preschool_ger_3y", "preschool_ger_3y"],
                         S.TARGET_YEAR: [2025, 2030]})
    assert plan_periods(gaps, 2025, 2035) == ((2026, 2030), (2031, 2035))
    assert plan_periods(gaps, 2020, 2035) == ((2021, 2025), (2026, 2030))


@pytest.mark.parametrize("lang, words", [
    ("en", ": 30 needed (80% interval 20–40) against the plan's 50, "
           "plan exceeds need by 20 (at risk, chance the plan's number covers the need 70%)"),
    ("zh", "补充教师：预测需补充30（80%区间 20–40），规划50，规划比需求多20"),
])
def test_a_hiring_need_below_the_plan_reads_as_a_surplus(tables, lang, words):
    """A need target at risk (need 30 against the plan's 50): the sentence says the plan
    exceeds the need by 50 − 30 = 20, never "short by"."""
    from njforecast.planning.targets import NEED_NOTE_HEAD

    t, summary, gaps = tables
    gaps = gaps.assign(**{S.NOTE: ""})
    i = gaps.index[gaps[S.INDICATOR] == "teachers_added_2021_2025"][0]
    gaps.loc[i, [S.STATUS, S.P_MEET, S.NOTE]] = ["at_risk", 0.7, NEED_NOTE_HEAD + "…"]
    got = key_messages(t, summary, gaps, "C", NAMES[lang], lang, jump_off=2020)[3]
    assert words in got and "short by 20" not in got and "差20" not in got
