"""The summaries ``make synth`` prints count export jobs - not the wait condition or the result
resource of a long wait - and say ``1 export job`` / ``2 export jobs``."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from export_constructs import ExportDestination, PersonalizeDatasetExportJob
from export_constructs.testing.__main__ import export_jobs, main
from export_constructs.testing.assembly import read_assembly
from sample_app.summary import summarize

DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"


@pytest.fixture(scope="module")
def one_long_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job that waits on a wait condition: its template holds two export-job resources
    (the job and its result resource) and a wait condition."""
    outdir = tmp_path_factory.mktemp("one")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "One")
    PersonalizeDatasetExportJob(
        stack, "Users", dataset_arn=DATASET, destination=ExportDestination(stack, "Exports"), timeout=Duration.hours(2)
    )
    app.synth()
    return outdir


def test_one_long_waiting_job_is_one_export_job(one_long_job: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (stack,) = read_assembly(one_long_job)
    types = [r["Type"] for r in stack.resources.values()]
    assert types.count("Custom::ExportJob-Personalize") == 2 and "AWS::CloudFormation::WaitCondition" in types
    assert export_jobs([stack]) == 1
    first = summarize(one_long_job).splitlines()[0]
    assert re.fullmatch(r"One\.template\.json: 1 export job, \d+ resources, [\d,]+ bytes", first), first
    assert summarize(one_long_job).count("  export job ") == 1

    assert main([str(one_long_job)]) == 0
    counted = [x for x in capsys.readouterr().out.splitlines() if x.startswith("simulated ")]
    assert counted and re.match(r"simulated \d+ events of 1 export job: ", counted[0]), counted


def test_the_sample_app_s_six_jobs(sample_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "6 export jobs," in summarize(sample_assembly).splitlines()[0]
    assert main([str(sample_assembly)]) == 0
    counted = [x for x in capsys.readouterr().out.splitlines() if x.startswith("simulated ")]
    assert counted and " events of 6 export jobs: " in counted[0], counted
