"""The engine and the Pinpoint adapter through every lifecycle path, against botocore's Stubber
(which checks each request and canned response against the service model: a ``SegmentVersion``
sent as the string CloudFormation delivers would fail its parameter validation)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from botocore.retries import standard
from botocore.stub import Stubber

import export_constructs
from export_constructs.handler import clients, consts
from export_constructs.handler.adapters import pinpoint as adapter_module
from export_constructs.handler.adapters.base import ADOPTION_WINDOW_SECONDS, MAX_TEXT_BYTES, json_size
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, load_adapter

from .conftest import Clock, stubbed_client
from .events import after_on_event, load

EVENT = load("pinpoint_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]
APP = REQUEST["ApplicationId"]
JOB_ID = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
OTHER_JOB_ID = "99887766554433221100ffeeddccbbaa"
CREATED = datetime.fromisoformat("2026-11-22T11:00:00+00:00")
#: The request as boto3 must receive it: SegmentVersion back to an integer.
DEFINITION: dict[str, Any] = {**REQUEST["ExportJobRequest"], "SegmentVersion": 3}


@pytest.fixture
def pinpoint() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("pinpoint")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def job_arn(job_id: str = JOB_ID, app: str = APP) -> str:
    return f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{app}/jobs/export/{job_id}"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def job(
    status: str,
    *,
    job_id: str = JOB_ID,
    created: datetime = CREATED,
    definition: dict[str, Any] | None = None,
    failures: list[str] | None = None,
    total: int = 4,
    completed: int = 0,
    failed: int = 0,
    total_failures: int = 0,
) -> dict[str, Any]:
    """One ExportJobResponse, as GetExportJob and GetExportJobs return it."""
    response: dict[str, Any] = {
        "ApplicationId": APP,
        "CreationDate": iso(created),
        "Definition": copy.deepcopy(DEFINITION if definition is None else definition),
        "Id": job_id,
        "JobStatus": status,
        "Type": "EXPORT",
        "TotalPieces": total,
        "CompletedPieces": completed,
        "FailedPieces": failed,
        "TotalFailures": total_failures,
        "TotalProcessed": completed * 10,
    }
    if failures is not None:
        response["Failures"] = failures
    if status == "COMPLETED":
        response["CompletionDate"] = iso(created + timedelta(minutes=4))
    return response


def add_describe(stub: Stubber, status: str, **kwargs: Any) -> None:
    job_id = kwargs.get("job_id", JOB_ID)
    stub.add_response(
        "get_export_job", {"ExportJobResponse": job(status, **kwargs)}, {"ApplicationId": APP, "JobId": job_id}
    )


def add_list(
    stub: Stubber, items: list[dict[str, Any]], *, token: str | None = None, next_token: str | None = None
) -> None:
    page: dict[str, Any] = {"Item": items}
    if next_token is not None:
        page["NextToken"] = next_token
    expected: dict[str, Any] = {"ApplicationId": APP}
    if token is not None:
        expected["Token"] = token
    stub.add_response("get_export_jobs", {"ExportJobsResponse": page}, expected)


def add_create(stub: Stubber, job_id: str = JOB_ID, definition: dict[str, Any] = DEFINITION) -> None:
    stub.add_response(
        "create_export_job",
        {"ExportJobResponse": job("CREATED", job_id=job_id, definition=definition, total=0)},
        {"ApplicationId": APP, "ExportJobRequest": definition},
    )


def engine_for(client: Any, clock: Clock) -> Engine:
    return Engine(lambda name: client if name == "pinpoint" else None, clock=clock)


def event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    ev.update(changes)
    return ev


# -- create, poll, succeed or fail ---------------------------------------------------------------


def test_create_polls_progress_and_succeeds(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    engine = engine_for(client, clock)
    add_list(stub, [])
    add_create(stub)  # SegmentVersion 3, not "3": the Stubber checks the parameters
    result = engine.on_event(event())
    assert result == {"PhysicalResourceId": job_arn()}

    polled = after_on_event(event(), result)
    for status, completed in (("CREATED", 0), ("PROCESSING", 2), ("COMPLETING", 4)):
        add_describe(stub, status, completed=completed)
        assert engine.is_complete(polled) == {"IsComplete": False}
    add_describe(stub, "COMPLETED", completed=4)
    done = engine.is_complete(polled)
    assert done["IsComplete"] is True
    data = done["Data"]
    assert data == {
        consts.ATTR_JOB_ARN: job_arn(),
        consts.ATTR_JOB_NAME: data[consts.ATTR_JOB_NAME],
        consts.ATTR_STATUS: "COMPLETED",
        consts.ATTR_OUTPUT_URI: REQUEST["ExportJobRequest"]["S3UrlPrefix"],
        consts.ATTR_QUEUED_SECONDS: "0",
        "PinpointJobId": JOB_ID,
        "TotalPieces": "4",
        "CompletedPieces": "4",
        "FailedPieces": "0",
        "TotalFailures": "0",
        "Failures": "",
    }
    assert all(isinstance(v, str) for v in data.values())


def test_segment_version_arrives_as_a_string_and_leaves_as_an_integer(
    pinpoint: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = pinpoint
    assert REQUEST["ExportJobRequest"]["SegmentVersion"] == "3"  # as CloudFormation sends it
    add_list(stub, [])
    add_create(stub, definition={**DEFINITION, "SegmentVersion": 3})
    engine_for(client, clock).on_event(event())
    with pytest.raises(ValueError, match="SegmentVersion must be an integer, got 'three'"):
        adapter_module._definition({**DEFINITION, "SegmentVersion": "three"})


def test_a_whole_project_export_sends_no_segment(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    props = copy.deepcopy(PROPS)
    del props["Request"]["ExportJobRequest"]["SegmentId"]
    del props["Request"]["ExportJobRequest"]["SegmentVersion"]
    whole = {k: v for k, v in DEFINITION.items() if k in ("RoleArn", "S3UrlPrefix")}
    add_list(stub, [job("COMPLETED", job_id=OTHER_JOB_ID, created=CREATED - timedelta(minutes=2))])  # a segment's
    add_create(stub, definition=whole)
    assert engine_for(client, clock).on_event(event(ResourceProperties=props)) == {"PhysicalResourceId": job_arn()}


@pytest.mark.parametrize(
    "status", ["CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "PENDING_JOB", "COMPLETING"]
)
def test_every_other_status_is_still_running(pinpoint: tuple[Any, Stubber], clock: Clock, status: str) -> None:
    client, stub = pinpoint
    add_describe(stub, status)
    assert engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn())) == {"IsComplete": False}


@pytest.mark.parametrize("status", ["FAILED", "FAILING"])
def test_failed_job_fails_with_the_services_failures(pinpoint: tuple[Any, Stubber], clock: Clock, status: str) -> None:
    client, stub = pinpoint
    failures = ["Access Denied writing s3://exports/pinpoint/endpoints/", "piece 3 timed out"]
    add_describe(stub, status, failures=failures, failed=2, total_failures=120)
    with pytest.raises(JobFailed) as failed:
        engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn()))
    message = str(failed.value)
    assert job_arn() in message and f"status {status}" in message
    assert "Access Denied writing s3://exports/pinpoint/endpoints/; piece 3 timed out" in message


def test_failed_job_without_failures_names_the_failed_pieces(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    add_describe(stub, "FAILED", failed=3, total=4, total_failures=250)
    with pytest.raises(JobFailed, match="no failure entries; 3 of 4 pieces failed, 250 endpoint definitions"):
        engine_for(client, clock).is_complete(event(PhysicalResourceId=job_arn()))


def test_long_failures_are_cut_to_fit_cloudformations_response(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    add_describe(stub, "FAILED", failures=[f"endpoint {i:03d} is malformed" for i in range(100)])
    state = load_adapter("pinpoint", lambda _: client).describe(job_arn())
    assert state.reason is not None and MAX_TEXT_BYTES - 4 < json_size(state.reason) <= MAX_TEXT_BYTES
    assert state.reason.startswith("endpoint 000 is malformed; endpoint 001") and state.reason.endswith("...")
    assert state.attributes["Failures"] == state.reason


def test_own_deadline_fails_naming_job_and_status_and_that_it_may_still_run(
    pinpoint: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = pinpoint
    engine = engine_for(client, clock)
    polled = event(PhysicalResourceId=job_arn())
    clock.now = CREATED + timedelta(seconds=2999)
    add_describe(stub, "PROCESSING", completed=1)
    assert engine.is_complete(polled) == {"IsComplete": False}

    clock.now = CREATED + timedelta(seconds=3000)
    add_describe(stub, "PROCESSING", completed=1)
    with pytest.raises(DeadlineExceeded) as late:
        engine.is_complete(polled)
    message = str(late.value)
    assert job_arn() in message and "last status PROCESSING" in message and "3000 s" in message
    assert "no API to stop it, so it may still be running" in message  # the Stubber saw no other call


# -- idempotent create ------------------------------------------------------------------------------


def test_retried_create_adopts_the_running_job(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    other_prefix = {**DEFINITION, "S3UrlPrefix": "s3://exportconstructssample-exportsd637ff99-0123456789ab/other/"}
    add_list(
        stub,
        [
            job("PROCESSING", job_id=OTHER_JOB_ID, definition=other_prefix),
            job("PROCESSING", created=CREATED),
        ],
    )
    # No CreateExportJob queued: a second job would make the Stubber fail.
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_retried_create_finds_its_job_on_a_later_page(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    add_list(stub, [job("COMPLETED", job_id=OTHER_JOB_ID, created=CREATED - timedelta(days=2))], next_token="page-2")
    add_list(stub, [job("INITIALIZING")], token="page-2")
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_retried_create_adopts_a_job_that_completed_within_the_window(
    pinpoint: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = pinpoint
    window = min(int(PROPS["TimeoutSeconds"]), ADOPTION_WINDOW_SECONDS)
    clock.now = CREATED + timedelta(seconds=window)
    add_list(stub, [job("COMPLETED", job_id=OTHER_JOB_ID, created=CREATED - timedelta(seconds=1)), job("COMPLETED")])
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


@pytest.mark.parametrize(
    ("listed", "adopted"),
    [
        pytest.param(
            [
                job("COMPLETED", job_id="a" * 32),
                job("COMPLETED", job_id="b" * 32, created=CREATED + timedelta(minutes=2)),
            ],
            "b" * 32,
            id="the-newest-of-two-completed",
        ),
        pytest.param(
            [
                job("COMPLETED", job_id="c" * 32, created=CREATED + timedelta(minutes=2)),
                job("PENDING_JOB", job_id="d" * 32, created=CREATED - timedelta(minutes=10)),
            ],
            "d" * 32,
            id="a-running-one-before-a-completed-one",
        ),
    ],
)
def test_retried_create_prefers_a_running_then_the_newest_job(
    pinpoint: tuple[Any, Stubber], clock: Clock, listed: list[dict[str, Any]], adopted: str
) -> None:
    client, stub = pinpoint
    add_list(stub, listed)
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn(adopted)}


@pytest.mark.parametrize(
    "listed",
    [
        pytest.param(
            [job("PROCESSING", job_id=OTHER_JOB_ID, definition={**DEFINITION, "SegmentVersion": 2})],
            id="another-segment-version",
        ),
        pytest.param(
            [job("PROCESSING", job_id=OTHER_JOB_ID, definition={**DEFINITION, "RoleArn": DEFINITION["RoleArn"] + "2"})],
            id="another-role",
        ),
        pytest.param(
            [job("COMPLETED", job_id=OTHER_JOB_ID, created=CREATED + timedelta(minutes=5) - timedelta(seconds=3001))],
            id="finished-outside-the-window",
        ),
        pytest.param([job("FAILED", job_id=OTHER_JOB_ID, failures=["x"])], id="failed"),
        pytest.param([job("FAILING", job_id=OTHER_JOB_ID, failures=["x"])], id="failing"),
    ],
)
def test_no_adoption_of_another_definition_an_old_or_a_failed_job(
    pinpoint: tuple[Any, Stubber], clock: Clock, listed: list[dict[str, Any]]
) -> None:
    client, stub = pinpoint
    add_list(stub, listed)
    add_create(stub)
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


def test_the_search_for_a_job_to_adopt_is_bounded(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    pages = adapter_module.Adapter.max_list_pages
    assert pages is not None
    for page in range(pages):
        add_list(
            stub,
            [job("COMPLETED", job_id=f"{page:032x}", created=CREATED - timedelta(days=page + 1))],
            token=f"t{page}" if page else None,
            next_token=f"t{page + 1}",
        )
    add_create(stub)
    assert engine_for(client, clock).on_event(event()) == {"PhysicalResourceId": job_arn()}


# -- update ---------------------------------------------------------------------------------------


def test_update_with_changed_request_starts_a_new_job(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    new_props = copy.deepcopy(PROPS)
    new_props["Request"]["ExportJobRequest"]["SegmentVersion"] = "4"
    add_list(stub, [job("COMPLETED")])  # the old job: version 3
    add_create(stub, job_id=OTHER_JOB_ID, definition={**DEFINITION, "SegmentVersion": 4})
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    assert engine_for(client, clock).on_event(update) == {"PhysicalResourceId": job_arn(OTHER_JOB_ID)}


def test_update_of_the_timeout_only_keeps_the_job(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    new_props = {**PROPS, consts.PROP_TIMEOUT_SECONDS: "1200"}
    update = event("Update", PhysicalResourceId=job_arn(), ResourceProperties=new_props, OldResourceProperties=PROPS)
    engine = engine_for(client, clock)
    result = engine.on_event(update)
    assert result == {"PhysicalResourceId": job_arn()}  # no API call: nothing queued
    add_describe(stub, "COMPLETED", completed=4)
    assert engine.is_complete(after_on_event(update, result))["IsComplete"] is True


# -- delete ---------------------------------------------------------------------------------------


def test_delete_while_running_calls_nothing_but_describe_and_succeeds(
    pinpoint: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = pinpoint
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    add_describe(stub, "PROCESSING")
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    add_describe(stub, "PROCESSING")
    assert engine.is_complete(delete) == {"IsComplete": True}  # no stop API, nothing to wait for


def test_delete_after_the_job_failed_succeeds(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    for _ in range(2):
        add_describe(stub, "FAILED", failures=["x"])
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    assert engine.is_complete(delete) == {"IsComplete": True}


@pytest.mark.parametrize(
    "physical_id",
    [
        "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",  # a Create that failed in on_event
        "5e0c7d1f-2222-4a3b-9c00-0123456789ab",
        "",
        f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{APP}",
        f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{APP}/jobs/import/{JOB_ID}",
        "arn:aws:personalize:us-east-1:123456789012:dataset-export-job/x",
    ],
)
def test_delete_of_something_that_is_not_a_job_does_nothing(
    pinpoint: tuple[Any, Stubber], clock: Clock, physical_id: str
) -> None:
    client, _ = pinpoint
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=physical_id)
    assert engine.on_event(delete) == {"PhysicalResourceId": physical_id}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_delete_of_a_job_that_is_gone_succeeds(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    engine = engine_for(client, clock)
    delete = event("Delete", PhysicalResourceId=job_arn())
    for _ in range(2):
        stub.add_client_error(
            "get_export_job",
            "NotFoundException",
            "Resource not found",
            http_status_code=404,
            expected_params={"ApplicationId": APP, "JobId": JOB_ID},
        )
    assert engine.on_event(delete) == {"PhysicalResourceId": job_arn()}
    assert engine.is_complete(delete) == {"IsComplete": True}


def test_other_errors_propagate(pinpoint: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = pinpoint
    stub.add_client_error(
        "get_export_jobs",
        "ForbiddenException",
        "not allowed",
        http_status_code=403,
        expected_params={"ApplicationId": APP},
    )
    with pytest.raises(Exception, match="not allowed"):
        engine_for(client, clock).on_event(event())


# -- ids, packaging, retries ---------------------------------------------------------------------


def test_the_adapter_owns_exactly_the_export_job_arn_form() -> None:
    adapter = load_adapter("pinpoint", lambda _: None)
    assert adapter.owns(job_arn())
    assert adapter.owns(f"arn:aws-cn:mobiletargeting:cn-north-1:123456789012:apps/{APP}/jobs/export/{JOB_ID}")
    for other in (
        job_arn() + "/x",
        job_arn().replace("123456789012", "1234"),
        job_arn().replace("mobiletargeting", "pinpoint"),
        f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{APP}/jobs/export/",
    ):
        assert not adapter.owns(other), other


def test_handler_imports_the_adapter_without_cdk() -> None:
    package_dir = Path(export_constructs.__file__).resolve().parent
    code = (
        "import sys; sys.modules.update(aws_cdk=None, constructs=None, jsii=None, export_constructs=None);"
        f"sys.path.insert(0, {str(package_dir)!r});"
        "import handler.adapters.pinpoint as p; assert p.Adapter.label"
    )
    subprocess.run([sys.executable, "-I", "-c", code], check=True, cwd="/")


class _Pinpoint(BaseHTTPRequestHandler):
    """Answers CreateExportJob twice with 429 TooManyRequestsException, then with 202."""

    answers: ClassVar[list[int]] = []
    bodies: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        status = 429 if len(type(self).bodies) <= 2 else 202
        type(self).answers.append(status)
        if status == 429:
            payload: Any = {"message": "Too many requests", "RequestID": "r"}
            extra = {"x-amzn-ErrorType": "TooManyRequestsException"}
        else:
            payload = job("CREATED", total=0)
            extra = {}
        body = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **extra}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_throttling_is_retried_by_botocores_standard_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real client configuration (``clients.botocore_config``), against a local endpoint."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    _Pinpoint.answers, _Pinpoint.bodies = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pinpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = boto3.client(
            "pinpoint",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=clients.botocore_config(),
        )
        response = client.create_export_job(ApplicationId=APP, ExportJobRequest=DEFINITION)
    finally:
        server.shutdown()
        server.server_close()
    assert response["ExportJobResponse"]["Id"] == JOB_ID
    assert _Pinpoint.answers == [429, 429, 202]
    assert _Pinpoint.bodies == [DEFINITION] * 3
