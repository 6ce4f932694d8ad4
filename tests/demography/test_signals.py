"""The sex-selectivity index and the damping of the school steps (fourth study, issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from njforecast.demography import DemographicAssumptions
from njforecast.demography.signals import sex_selectivity, signal_components


def _tiny():
    """One area: 10 persons at every age and sex, except 12 males at each age 15-24; the
    parent has 1 person everywhere (sex ratio 1 at every age)."""
    base = np.full((1, 2, 101), 10.0)
    base[0, 0, 15:25] = 12.0
    return base, np.ones((2, 101))


def test_sex_selectivity_hand_computed():
    """d = |[log(120/100) − log(100/100)] − [log(10/10) − log(10/10)]| = log 1.2; an area
    whose sex ratio changes like its parent's has d = 0 whatever its own sex ratio at birth."""
    base, parent = _tiny()
    assert sex_selectivity(base, parent) == pytest.approx([np.log(1.2)], abs=1e-12)
    same = np.full((1, 2, 101), 10.0)
    same[0, 0] = 11.0                                   # 110 boys per 100 girls at every age
    assert sex_selectivity(same, parent) == pytest.approx([0.0], abs=1e-12)
    flipped = base[:, ::-1]                             # female excess counts the same
    assert sex_selectivity(flipped, parent) == pytest.approx([np.log(1.2)], abs=1e-12)
    empty = base.copy()
    empty[0, 1, 15:25] = 0.0                            # no women 15-24: no index, no damping
    assert sex_selectivity(empty, parent) == pytest.approx([0.0])


def test_sex_damping_scales_only_the_school_steps():
    """κ_s = 5: the male school step at 14→15, log(12/10), becomes log 1.2 · 1.2^−5; the
    structure step at 24→25, log(10/12), is untouched; κ_s = 0 is the undamped signal."""
    base, parent = _tiny()
    plain = signal_components(base, parent, 12)
    damped = signal_components(base, parent, 12, sex_damping=5.0)
    assert plain["school"][0, 0, 14] == pytest.approx(np.log(1.2), abs=1e-12)
    assert damped["school"][0, 0, 14] == pytest.approx(np.log(1.2) * 1.2 ** -5, abs=1e-12)
    assert damped["structure"][0, 0, 24] == pytest.approx(np.log(10 / 12), abs=1e-12)
    np.testing.assert_array_equal(damped["structure"], plain["structure"])
    np.testing.assert_array_equal(signal_components(base, parent, 12, sex_damping=0.0)["school"],
                                  plain["school"])
    out = base.copy()
    out[0, 0, 15:25] = 8.0                              # boys leaving: an outflow step
    d = abs(np.log(0.8))
    damped = signal_components(out, parent, 12, sex_damping=5.0)
    assert damped["school_out"][0, 0, 14] == pytest.approx(np.log(0.8) * np.exp(-5 * d),
                                                           abs=1e-12)
    assert not damped["school"].any()


def test_sex_damping_validated():
    """A negative or infinite κ_s is refused, naming the field."""
    for bad in (-1.0, np.inf):
        with pytest.raises(ValueError, match="school_sex_damping"):
            DemographicAssumptions(school_sex_damping=bad)


def test_urban_component_hand_computed():
    """u_area − u_parent = 0.2 gives the annual log factor 0.02 at ages 0-14 for both sexes
    and nothing from age 15; a missing share (NaN) gives no signal."""
    base, parent = _tiny()
    comp = signal_components(base, parent, 12, urban=np.array([0.2]))["urban"]
    np.testing.assert_allclose(comp[0, :, :15], 0.02, rtol=0, atol=1e-15)
    assert not comp[0, :, 15:].any()
    assert not signal_components(base, parent, 12, urban=np.array([np.nan]))["urban"].any()


def test_urban_share_of_the_2010_table():
    """Dongcheng (110101) has a blank rural cell and 573,180 urban residents: u = 1; Beijing
    (110000): 16,858,692 urban of 16,858,692 + 2,753,676; urban_gap is the difference."""
    from njforecast.demography.signals import urban_gap, urban_share

    u = urban_share()
    assert u["110101"] == 1.0
    assert u["110000"] == pytest.approx(16858692 / (16858692 + 2753676), rel=1e-12)
    assert urban_gap(["110101"])[0] == pytest.approx(1 - u["110000"], rel=1e-12)
    assert np.isnan(urban_gap(["999999"])[0])
