"""The benchmark's arithmetic (the timings themselves are not tested: see docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import Config, Result, run_config


def test_the_per_round_ratio_pairs_each_run_with_the_baselines_run_of_the_same_round() -> None:
    # A slow second round: the medians' ratio is 3.0, each round's own ratio 2, 1.5 and 3.
    hundred = Result(walls=[2.0, 9.0, 3.0])
    empty = Result(walls=[1.0, 6.0, 1.0])
    assert hundred.wall / empty.wall == 3.0
    assert hundred.paired_ratio(empty) == 2.0


def test_the_per_round_ratio_needs_the_same_rounds() -> None:
    with pytest.raises(ValueError):
        Result(walls=[1.0, 2.0]).paired_ratio(Result(walls=[1.0]))


def test_each_run_may_write_bytecode_whatever_the_callers_shell_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # With PYTHONDONTWRITEBYTECODE the warm-up would leave export_constructs uncompiled and every
    # library run would time compiling it (aws-cdk-lib's bytecode is written when pip installs it).
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    seen: dict[str, Any] = {}

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(command=command, env=kwargs["env"])
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps({"resources": 1}) + "\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    _, figures = run_config(Config("library", 1), tmp_path)
    assert figures == {"resources": 1}
    assert seen["command"][1:3] == ["-m", "bench.synth_one"]
    assert "PYTHONDONTWRITEBYTECODE" not in seen["env"]
