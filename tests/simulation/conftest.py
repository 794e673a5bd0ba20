from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from export_constructs.testing import FakeService, Scenario, SimulationResult, fake_class, simulate
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def sample_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app synthesized once into a cloud assembly folder, as `make synth` does
    (without the nag plugins, which the construct tests run)."""
    import aws_cdk as cdk

    from sample_app.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(cdk.App(outdir=str(outdir)), nag=False)
    app.synth()
    return outdir


def copy_assembly(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


TEMPLATE = "ExportConstructsSample.template.json"


def job_of(assembly: Path, service: str) -> str:
    """The logical id of the sample app's job of ``service``."""
    template = json.loads((assembly / TEMPLATE).read_text())
    (logical_id,) = [k for k, v in template["Resources"].items() if v["Type"] == f"Custom::ExportJob-{service}"]
    return str(logical_id)


def edited(assembly: Path, target: Path, service: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the assembly whose ``service`` job's properties ``edit`` has changed."""
    updated = copy_assembly(assembly, target)
    path = updated / TEMPLATE
    template = json.loads(path.read_text())
    edit(template["Resources"][job_of(assembly, service)]["Properties"])
    path.write_text(json.dumps(template))
    return updated


@dataclass(frozen=True)
class Service:
    """What the simulation tests know of each service's API."""

    name: str
    create: str
    describe: str
    succeeded: str
    stop: str | None
    """The operation that stops a running job, where the API has one."""
    release: str | None = None
    """What Delete calls once the job has ended (Forecast deletes the export job record)."""
    throttled: str = "ThrottlingException"
    one_at_a_time: bool = False
    """The account runs one job of the service at a time (CloudWatch Logs): a new job waits for
    the running one to end."""
    missing_is_empty: bool = False
    """The describe of a job that does not exist answers an empty list (CloudWatch Logs'
    DescribeExportTasks), not an error."""


SERVICES = {
    s.name: s
    for s in (
        Service("Personalize", "CreateDatasetExportJob", "DescribeDatasetExportJob", "ACTIVE", None),
        Service(
            "Forecast",
            "CreateForecastExportJob",
            "DescribeForecastExportJob",
            "ACTIVE",
            "StopResource",
            "DeleteForecastExportJob",
        ),
        Service("Pinpoint", "CreateExportJob", "GetExportJob", "COMPLETED", None, throttled="TooManyRequestsException"),
        Service("RoboMaker", "CreateWorldExportJob", "DescribeWorldExportJob", "Completed", "CancelWorldExportJob"),
        Service(
            "Rds", "StartExportTask", "DescribeExportTasks", "COMPLETE", "CancelExportTask", throttled="Throttling"
        ),
        Service(
            "CloudWatchLogs",
            "CreateExportTask",
            "DescribeExportTasks",
            "COMPLETED",
            "CancelExportTask",
            one_at_a_time=True,
            missing_is_empty=True,
        ),
    )
}


def simulated(assembly: Path, service: str, scenario: Scenario, **kwargs: Any) -> SimulationResult:
    """``simulate`` with ``scenario`` for ``service`` (the others succeed), asserting that the
    fake services found no malformed request."""
    result = simulate(assembly, scenario={service: scenario}, **kwargs)
    assert result.problems == [], "the fake services found malformed requests"
    return result


def change_request(service: str) -> Callable[[dict[str, Any]], None]:
    """An edit of ``service``'s job properties that changes its request (a new tag; Pinpoint,
    which has no tags, exports one segment instead of the whole project; RDS exports one more
    table; CloudWatch Logs only the streams of one day)."""

    def change(properties: dict[str, Any]) -> None:
        request = properties["Request"]
        if service == "Pinpoint":
            request["ExportJobRequest"]["SegmentId"] = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
        elif service == "Forecast":
            request["Tags"] = [*request.get("Tags", []), {"Key": "rev", "Value": "2"}]
        elif service == "Personalize":
            request["tags"] = [*request.get("tags", []), {"tagKey": "rev", "tagValue": "2"}]
        elif service == "Rds":
            request["ExportOnly"] = [*request.get("ExportOnly", []), "shop.customers"]
        elif service == "CloudWatchLogs":
            request["logStreamNamePrefix"] = "2026/12/01/"
        else:
            request["tags"] = {**request.get("tags", {}), "rev": "2"}

    return change


# -- fake services driven directly, by boto3 clients ----------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fakes' credentials, and nothing of the machine's AWS configuration."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def started(service: str, **kwargs: Any) -> Iterator[FakeService]:
    """The fake of ``service`` (``kwargs``: its scenario, region, account...), serving."""
    with fake_class(service)(**kwargs) as fake:
        yield fake


@pytest.fixture
def personalize(aws_env: None) -> Iterator[FakeService]:
    yield from started("Personalize")


@pytest.fixture
def forecast(aws_env: None) -> Iterator[FakeService]:
    yield from started("Forecast")


@pytest.fixture
def pinpoint(aws_env: None) -> Iterator[FakeService]:
    yield from started("Pinpoint")


@pytest.fixture
def robomaker(aws_env: None) -> Iterator[FakeService]:
    yield from started("RoboMaker")


def client(service: str, fake: FakeService, **config: Any) -> Any:
    """A boto3 client of ``service`` on ``fake``, in its Region, without retries."""
    return boto3.session.Session().client(
        service,
        region_name=fake.region,
        endpoint_url=fake.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )
