"""The benchmark's arithmetic (the timings themselves are not tested: see docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from bench.__main__ import Result


def test_the_per_round_ratio_pairs_each_run_with_the_baselines_run_of_the_same_round() -> None:
    # A slow second round: the medians' ratio is 3.0, each round's own ratio 2, 1.5 and 3.
    hundred = Result(walls=[2.0, 9.0, 3.0])
    empty = Result(walls=[1.0, 6.0, 1.0])
    assert hundred.wall / empty.wall == 3.0
    assert hundred.paired_ratio(empty) == 2.0


def test_the_per_round_ratio_needs_the_same_rounds() -> None:
    with pytest.raises(ValueError):
        Result(walls=[1.0, 2.0]).paired_ratio(Result(walls=[1.0]))
