"""What every test shares: nobody is held out of proactive texts unless a test says so.

The holdout (`TEXTCART_HOLDOUT_SHARE`, 0.1 in production) would otherwise keep a tenth
of the tests' shoppers from their nudges. Tests of the holdout set it themselves; the
e2e servers inherit this environment.
"""

from __future__ import annotations

import os

os.environ["TEXTCART_HOLDOUT_SHARE"] = "0"
