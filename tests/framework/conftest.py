"""The framework tier's shared pieces: the sample app synthesized once, and one Node.js process
running the Provider framework's own functions for the whole session."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from export_constructs import services
from export_constructs.testing.assembly import StackTemplate, read_assembly

from .harness import Deployment, FrameworkSession, FrameworkUnavailable

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

STACK = "ExportConstructsSample"
SERVICES = tuple(s.name for s in services.SERVICES)


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app's cloud assembly, as `make synth` writes it (without the nag plugins)."""
    import aws_cdk as cdk

    from sample_app.app import build_app

    outdir = tmp_path_factory.mktemp("framework-cdk.out")
    app, _ = build_app(cdk.App(outdir=str(outdir)), nag=False)
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def sample(sample_out: Path) -> StackTemplate:
    (stack,) = read_assembly(sample_out, {STACK})
    return stack


@pytest.fixture(scope="session")
def framework(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrameworkSession]:
    """The endpoints and the Node.js process running framework.js, for the whole session."""
    try:
        session = FrameworkSession(tmp_path_factory.mktemp("framework"))
    except FrameworkUnavailable as missing:
        pytest.fail(str(missing), pytrace=False)
    yield session
    session.close()


#: The sample app's S3 prefix of each service's job.
PREFIXES = {
    "Personalize": "personalize/users/",
    "Forecast": "forecast/demand/",
    "Pinpoint": "pinpoint/endpoints/",
    "RoboMaker": "robomaker/worlds/",
    "Rds": "rds/orders/",
    "CloudWatchLogs": "cloudwatchlogs/handler/",
}
#: The attributes every export job returns, in the order the handler gives them.
COMMON_ATTRIBUTES = ("JobArn", "JobName", "Status", "OutputUri", "QueuedSeconds")
#: The attributes each service's adapter adds.
OWN_ATTRIBUTES = {
    "Personalize": (),
    "Forecast": (),
    "Pinpoint": ("PinpointJobId", "TotalPieces", "CompletedPieces", "FailedPieces", "TotalFailures", "Failures"),
    "RoboMaker": (),
    "Rds": ("PercentProgress", "TotalExtractedDataInGB", "SnapshotTime"),
    "CloudWatchLogs": ("From", "To"),
}


def check_data(deployment: Deployment, service: str, data: Mapping[str, Any], *, job_id: str) -> None:
    """A successful job's ``Data``: the common attributes then the service's own, all strings
    (CloudFormation's ``Fn::GetAtt`` values), about the job ``job_id``."""
    assert list(data) == [*COMMON_ATTRIBUTES, *OWN_ATTRIBUTES[service]]
    assert all(isinstance(value, str) for value in data.values()), data
    assert data["JobArn"] == job_id
    assert data["JobName"].lower().startswith("ex" + deployment.pseudo.stack_uuid.split("-")[0])
    buckets = [
        deployment.resolver.ref(k) for k, r in deployment.stack.resources.items() if r["Type"] == "AWS::S3::Bucket"
    ]
    assert data["OutputUri"] in [f"s3://{bucket}/{PREFIXES[service]}" for bucket in buckets]
    if service == "Pinpoint":
        assert job_id.endswith("/" + data["PinpointJobId"])
        assert data["CompletedPieces"] == data["TotalPieces"] and data["FailedPieces"] == "0"
    if service == "Rds":
        assert data["PercentProgress"] == "100" and data["JobName"] == job_id
    if service == "CloudWatchLogs":
        assert int(data["To"]) - int(data["From"]) == 24 * 3600 * 1000  # the sample's one-day window


#: framework.js's Error for a user function that failed: the function's ``errorMessage``, a blank
#: line, ``Logs: /aws/lambda/<function name>`` and a blank line (invokeUserFunction, in
#: https://github.com/aws/aws-cdk/blob/main/packages/aws-cdk-lib/custom-resources/lib/provider-framework/runtime/framework.ts);
#: cfn-response.js's safeHandler answers its ``stack`` as the Reason, so Node.js's frames follow.
REASON = re.compile(
    r"Error: (?P<message>.*)\n\nLogs: /aws/lambda/(?P<function>[^\n]+)\n\n(?P<frames>    at .*)", re.DOTALL
)


def assert_framework_reason(
    deployment: Deployment, reason: str, payload: Mapping[str, Any], function: str, handler: str
) -> list[str]:
    """``reason`` is the framework's Error for the Python runtime's error ``payload`` of the user
    function ``function`` (a logical id), thrown while the framework's ``handler`` (``onEvent``,
    ``isComplete``) ran: its four stack frames are invokeUserFunction, Node.js's task queue, the
    handler and cfn-response.js's safeHandler (the columns are those of aws-cdk-lib's minified
    files; Lambda shows /var/task for the asset folder). Returns the frames."""
    match = REASON.fullmatch(reason)
    assert match is not None, reason
    assert match["message"] == payload["errorMessage"]
    assert match["function"] == deployment.function_name(function)
    code = re.escape(str(deployment.framework_code()))
    frames = match["frames"].split("\n")
    expected = [
        rf"    at invokeUserFunction \({code}/framework\.js:\d+:\d+\)",
        r"    at process\.processTicksAndRejections \(node:internal/process/task_queues:\d+:\d+\)",
        rf"    at async {handler} \({code}/framework\.js:\d+:\d+\)",
        rf"    at async {code}/cfn-response\.js:\d+:\d+",
    ]
    assert len(frames) == len(expected) and all(re.fullmatch(e, f) for e, f in zip(expected, frames, strict=True)), (
        frames
    )
    return frames
