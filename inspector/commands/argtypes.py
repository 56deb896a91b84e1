"""argparse ``type=`` callables for numbers with a range, so a bad option is one usage line.

Without them ``--nsamples 0`` or ``--clip 500`` reached numpy or torch and came back as a
traceback from deep inside the work (issue 14: expected problems are one line, exit 2).

>>> positive_int("3"), fraction("0.5"), percentile("99")
(3, 0.5, 99.0)
>>> positive_int("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a whole number ≥ 1, not '0'
"""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {text!r}")
    return value


def _finite(text: str, rule: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number {rule}, not {text!r}")
    return value


def non_negative(text: str) -> float:
    value = _finite(text, "≥ 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number ≥ 0, not {text!r}")
    return value


def fraction(text: str) -> float:
    value = _finite(text, "from 0 to 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def percentile(text: str) -> float:
    value = _finite(text, "above 0, at most 100")
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"must be a number above 0, at most 100, not {text!r}")
    return value
