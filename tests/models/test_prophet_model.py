"""One small Prophet test: logistic growth respects the cap for rates; runs are repeatable.

Synthetic series (labelled): a rate approaching 100 %.
"""

import numpy as np
import pandas as pd

from njforecast.models import ProphetForecaster


def test_prophet_logistic_cap_and_determinism():
    """A rising rate stays ≤ its cap (raised to 1.05·max when reached) and reruns are identical."""
    y = pd.Series(100 - 40 * np.exp(-0.3 * np.arange(12)), index=range(2000, 2012))  # synthetic
    m = ProphetForecaster(cap=100.0, uncertainty_samples=50)
    fc1 = m.fit(y).predict(4)
    assert m.cap_ == 100.0
    assert (fc1["prophet"] <= 100.0 + 1e-9).all()
    assert (fc1["prophet-lo-95"] <= fc1["prophet"]).all()
    fc2 = ProphetForecaster(cap=100.0, uncertainty_samples=50).fit(y).predict(4)
    pd.testing.assert_frame_equal(fc1, fc2)
    m2 = ProphetForecaster(cap=90.0, uncertainty_samples=50).fit(y)
    assert m2.cap_ > y.max()
