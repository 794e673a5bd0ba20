"""The RoboMaker adapter, its REST client and the engine, against a local fake of RoboMaker.

botocore has no RoboMaker model any more, so there is no Stubber. Instead a small stateful fake
of the API runs on 127.0.0.1 (``http.server`` in a thread, an ephemeral port, reached through
``AWS_ENDPOINT_URL_ROBOMAKER``). It checks every request - method, path, the SigV4
``Authorization`` header (and recomputes its signature over what arrived), ``X-Amz-Date`` and the
JSON body against the shapes of seeds 000 and 001 - and answers in the API's shapes and error
codes. Every test ends with the fake having found no problem and served every scripted fault.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from botocore.exceptions import EndpointConnectionError

import export_constructs
from export_constructs.handler import clients, consts
from export_constructs.handler.adapters import robomaker
from export_constructs.handler.adapters.base import JobConflict
from export_constructs.handler.adapters.robomaker import RoboMakerClient, RoboMakerError
from export_constructs.handler.engine import DeadlineExceeded, Engine, JobFailed, derive_job_name, load_adapter
from export_constructs.handler.event import ResourceEvent
from export_constructs.testing.fakes import server as fakes_server
from export_constructs.testing.fakes.robomaker import TOKEN_PATTERN, check_create, check_job
from export_constructs.testing.fakes.server import AUTHORIZATION

from .conftest import Clock
from .events import after_on_event, load

REGION = "us-east-1"
ACCOUNT = "123456789012"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREATED = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
EVENT = load("robomaker_create")
PROPS = EVENT["ResourceProperties"]
REQUEST = PROPS["Request"]
CREATE, DESCRIBE, CANCEL = "CreateWorldExportJob", "DescribeWorldExportJob", "CancelWorldExportJob"
MAX_ATTEMPTS = clients.RETRY_CONFIG["total_max_attempts"]

# -- the API's shapes (seeds 000 and 001), shared with the simulation's fake -------------------


def check_signature(method: str, path: str, headers: Any, raw: bytes, region: str) -> list[str]:
    return fakes_server.check_signature(
        method,
        path,
        headers,
        raw,
        region=region,
        signing_name="robomaker",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        required=frozenset({"host", "x-amz-date", "content-type"}),
    )


# -- the fake service -------------------------------------------------------------------------


@dataclass
class Fault:
    """A scripted answer, served (in order) before the fake's own behaviour."""

    operation: str
    status: int
    code: str = ""
    message: str = ""
    style: str = "header"
    """``header`` (x-amzn-ErrorType with a suffix), ``type`` (body ``__type``), ``code`` (body
    ``code``), ``bare`` (no code at all) or ``drop`` (close the connection without an answer)."""
    effect: Callable[[], None] | None = None


Answer = tuple[int, dict[str, str], bytes] | None


def error(status: int, code: str, message: str, style: str = "header") -> Answer:
    if style == "header":
        suffix = ":http://internal.amazon.com/coral/com.amazonaws.robomaker/"
        return status, {"x-amzn-ErrorType": code + suffix}, json.dumps({"message": message}).encode()
    if style == "type":
        return status, {}, json.dumps({"__type": f"com.amazonaws.robomaker#{code}", "message": message}).encode()
    if style == "code":
        return status, {}, json.dumps({"code": code, "Message": message}).encode()
    return status, {}, b"<html>Bad Gateway</html>"


def ok(body: dict[str, Any] | None = None) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode() if body is not None else b""


class FakeRoboMaker:
    """World export jobs by ARN and client token, with RoboMaker's idempotency and cancel rules."""

    OPERATIONS: ClassVar[dict[str, str]] = {
        "/createWorldExportJob": CREATE,
        "/describeWorldExportJob": DESCRIBE,
        "/cancelWorldExportJob": CANCEL,
    }

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self.jobs: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[dict[str, Any], str]] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.headers: list[Any] = []
        self.problems: list[str] = []
        self.created_at: float = CREATED.timestamp()  # REST-JSON sends epoch seconds
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_job(self, status: str, **fields: Any) -> str:
        arn = f"arn:aws:robomaker:{self.region}:{ACCOUNT}:world-export-job/exp-{len(self.jobs) + 1:04d}a1b2c3d4"
        self.jobs[arn] = {
            "arn": arn,
            "status": status,
            "createdAt": self.created_at,
            "iamRole": REQUEST["iamRole"],
            "outputLocation": copy.deepcopy(REQUEST["outputLocation"]),
            "worlds": list(REQUEST["worlds"]),
            "tags": {},
            **fields,
        }
        return arn

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        operation = self.OPERATIONS.get(path)
        if method != "POST" or operation is None:
            self.problems.append(f"{method} {path} is not a world export operation")
            return error(404, "UnknownOperationException", path)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problems = check_signature(method, path, headers, raw, self.region)
        if headers.get("Content-Type") != "application/json":
            problems.append(f"Content-Type is {headers.get('Content-Type')!r}")
        problems += check_create(body) if operation == CREATE else check_job(body)
        self.calls.append((operation, body))
        self.headers.append(headers)
        if problems:
            self.problems += [f"{operation}: {p}" for p in problems]
            return error(400, "InvalidParameterException", "; ".join(problems))
        if self.faults and self.faults[0].operation == operation:
            fault = self.faults.pop(0)
            if fault.effect is not None:
                fault.effect()
            return None if fault.style == "drop" else error(fault.status, fault.code, fault.message, fault.style)
        return {CREATE: self._create, DESCRIBE: self._describe, CANCEL: self._cancel}[operation](body)

    def _create(self, body: dict[str, Any]) -> Answer:
        token = body.get("clientRequestToken", f"auto-{len(self.tokens)}")
        if token in self.tokens:
            first, arn = self.tokens[token]
            if first != body:
                return error(
                    400,
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical request.",
                )
        else:
            arn = self.add_job(
                "Pending",
                clientRequestToken=token,
                iamRole=body["iamRole"],
                outputLocation=body["outputLocation"],
                worlds=body["worlds"],
                tags=body.get("tags", {}),
            )
            self.tokens[token] = (body, arn)
        return ok({k: v for k, v in self.jobs[arn].items() if k not in ("worlds", "failureReason")})

    def _describe(self, body: dict[str, Any]) -> Answer:
        job = self.jobs.get(body["job"])
        if job is None:
            return error(400, "ResourceNotFoundException", f"World export job {body['job']} does not exist.")
        return ok(job)

    def _cancel(self, body: dict[str, Any]) -> Answer:
        job = self.jobs.get(body["job"])
        if job is None:
            return error(400, "ResourceNotFoundException", f"World export job {body['job']} does not exist.")
        if job["status"] not in ("Pending", "Running"):
            return error(400, "InvalidParameterException", f"Cannot cancel a job in status {job['status']}.")
        job["status"] = "Canceling"
        return ok()


def _handler_for(fake: FakeRoboMaker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = fake.handle(self.command, self.path, self.headers, raw)
            if answer is None:  # a dropped connection: no status line at all
                self.close_connection = True
                return
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials from the environment only; no profile, config file or endpoint leaks in."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ROBOMAKER",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextlib.contextmanager
def running_fake() -> Iterator[FakeRoboMaker]:
    fake = FakeRoboMaker()
    try:
        yield fake
    finally:
        fake.close()
    assert fake.problems == []
    assert fake.faults == [], "scripted faults left unserved"


@pytest.fixture
def fake(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRoboMaker]:
    with running_fake() as service:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ROBOMAKER", service.url)
        yield service


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps the adapter's client would take (jitter pinned at its maximum)."""
    taken: list[float] = []
    monkeypatch.setattr(robomaker.Adapter, "make_client", lambda: RoboMakerClient(sleep=taken.append, jitter=lambda: 1))
    return taken


def client(sleeps: list[float]) -> RoboMakerClient:
    return RoboMakerClient(sleep=sleeps.append, jitter=lambda: 1)


def no_botocore_clients(name: str) -> Any:
    raise AssertionError(f"the RoboMaker adapter asked for a botocore client ({name!r})")


def engine(clock: Clock) -> Engine:
    return Engine(no_botocore_clients, clock=clock)


def event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    ev = copy.deepcopy(EVENT)
    ev["RequestType"] = request_type
    ev.update(changes)
    return ev


def token(props: dict[str, Any] = PROPS) -> str:
    return derive_job_name(ResourceEvent.from_dict(EVENT), load_adapter("robomaker", no_botocore_clients), props)


def create_body(props: dict[str, Any] = PROPS) -> dict[str, Any]:
    return {**props["Request"], "clientRequestToken": token(props)}


# -- the client ---------------------------------------------------------------------------------


def test_requests_are_sigv4_signed_json_posts_in_the_apis_shape(fake: FakeRoboMaker, sleeps: list[float]) -> None:
    job = client(sleeps).call(CREATE, create_body(), region=REGION)
    assert re.fullmatch(r"arn:aws:robomaker:us-east-1:123456789012:world-export-job/exp-\w+", job["arn"])
    assert job["status"] == "Pending" and job["clientRequestToken"] == token()
    assert fake.calls == [(CREATE, create_body())]
    (headers,) = fake.headers
    auth = AUTHORIZATION.fullmatch(headers["Authorization"])
    assert auth is not None and auth["key"] == ACCESS_KEY and auth["service"] == "robomaker"
    assert auth["region"] == REGION and auth["date"] == headers["X-Amz-Date"][:8]
    assert headers["User-Agent"] == clients.USER_AGENT
    assert sleeps == []


def test_session_tokens_are_sent_and_signed(
    fake: FakeRoboMaker, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE")
    arn = fake.add_job("Running")
    assert client(sleeps).call(DESCRIBE, {"job": arn}, region=REGION)["status"] == "Running"
    (headers,) = fake.headers
    assert headers["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLE"
    assert "x-amz-security-token" in AUTHORIZATION.fullmatch(headers["Authorization"])["signed"]  # type: ignore[index]


def test_the_fake_rejects_unsigned_and_misshapen_requests(fake: FakeRoboMaker) -> None:
    """The checks above are not vacuous."""
    bad = {"worlds": [], "iamRole": "arn:aws-cn:iam::123456789012:role/x", "outputLocation": {"s3Prefix": ""}}
    request = urllib.request.Request(
        f"{fake.url}/createWorldExportJob",
        data=json.dumps({**bad, "clientRequestToken": "a" * 65, "tags": {"k": "#"}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=5)
    found = "\n".join(fake.problems)
    for expected in ("Authorization", "worlds", "iamRole", "s3Prefix", "clientRequestToken", "tags"):
        assert expected in found
    fake.problems.clear()


def test_throttling_bursts_are_retried_with_exponential_backoff(fake: FakeRoboMaker, sleeps: list[float]) -> None:
    arn = fake.add_job("Running")
    fake.faults = [Fault(DESCRIBE, 400, "ThrottlingException", "Rate exceeded")] * 3
    assert client(sleeps).call(DESCRIBE, {"job": arn}, region=REGION)["status"] == "Running"
    assert fake.operations == [DESCRIBE] * 4
    assert sleeps == [1, 2, 4]  # 1 s * 2**i, jitter at its maximum


@pytest.mark.parametrize(
    "faults",
    [
        [Fault(CREATE, 500, "InternalServerException", "oops"), Fault(CREATE, 503, "ServiceUnavailableException")],
        [Fault(CREATE, 502, style="bare"), Fault(CREATE, 504, style="bare")],
        [Fault(CREATE, 0, style="drop"), Fault(CREATE, 500, "InternalServerException", style="type")],
    ],
    ids=["coded-5xx", "gateway-5xx", "dropped-connection"],
)
def test_5xx_and_connection_errors_are_retried(fake: FakeRoboMaker, sleeps: list[float], faults: list[Fault]) -> None:
    fake.faults = list(faults)
    assert client(sleeps).call(CREATE, create_body(), region=REGION)["status"] == "Pending"
    assert fake.operations == [CREATE] * 3 and len(fake.jobs) == 1
    assert sleeps == [0.05, 0.1]  # 50 ms * 2**i for non-throttling errors


def test_retries_stop_at_the_botocore_attempt_budget(fake: FakeRoboMaker, sleeps: list[float]) -> None:
    fake.faults = [Fault(DESCRIBE, 400, "ThrottlingException", "Rate exceeded", style="code")] * MAX_ATTEMPTS
    with pytest.raises(RoboMakerError, match=r"ThrottlingException.*Rate exceeded") as raised:
        client(sleeps).call(DESCRIBE, {"job": fake.add_job("Running")}, region=REGION)
    assert raised.value.code == "ThrottlingException" and raised.value.status == 400
    assert fake.operations == [DESCRIBE] * MAX_ATTEMPTS == [DESCRIBE] * 8
    assert sleeps == [1, 2, 4, 8, 16, 20, 20]  # capped at 20 s, as botocore


def test_unreachable_endpoints_fail_after_the_attempt_budget(
    aws_env: None, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROBOMAKER", f"http://127.0.0.1:{port}")
    with pytest.raises(EndpointConnectionError):
        client(sleeps).call(DESCRIBE, {"job": "arn:aws:robomaker:us-east-1:1:world-export-job/x"}, region=REGION)
    assert len(sleeps) == MAX_ATTEMPTS - 1


@pytest.mark.parametrize("style", ["header", "type", "code"])
@pytest.mark.parametrize("code", ["InvalidParameterException", "AccessDeniedException", "ResourceNotFoundException"])
def test_other_errors_are_raised_at_once_with_the_services_code_and_message(
    fake: FakeRoboMaker, sleeps: list[float], code: str, style: str
) -> None:
    fake.faults = [Fault(CREATE, 400, code, "World arn:aws:robomaker:... is not valid.", style)]
    with pytest.raises(RoboMakerError) as raised:
        client(sleeps).call(CREATE, create_body(), region=REGION)
    assert raised.value.code == code
    message = "World arn:aws:robomaker:... is not valid."
    assert str(raised.value) == f"RoboMaker {CREATE} failed with {code} (HTTP 400): {message}"
    assert fake.operations == [CREATE] and sleeps == []


def test_service_specific_endpoint_wins_over_the_global_one(
    fake: FakeRoboMaker, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_fake() as other:
        monkeypatch.setenv("AWS_ENDPOINT_URL", other.url)
        client(sleeps).call(CREATE, create_body(), region=REGION)
        assert (fake.operations, other.operations) == ([CREATE], [])
        monkeypatch.delenv("AWS_ENDPOINT_URL_ROBOMAKER")
        client(sleeps).call(CREATE, create_body(), region=REGION)
        assert (fake.operations, other.operations) == ([CREATE], [CREATE])


def test_default_endpoint_is_the_regions_and_configured_ones_can_be_ignored(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RoboMakerClient.endpoint_url("eu-west-1") == "https://robomaker.eu-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566/")
    assert RoboMakerClient.endpoint_url("eu-west-1") == "http://localhost:4566"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert RoboMakerClient.endpoint_url("eu-west-1") == "https://robomaker.eu-west-1.amazonaws.com"


# -- the adapter through the engine ---------------------------------------------------------------


def test_derived_token_fits_the_api() -> None:
    assert token() == token()
    assert token().startswith("ex1c2fa620_WorldsExport6F1D2C3B_")
    assert 1 <= len(token()) <= 64 and re.fullmatch(TOKEN_PATTERN, token())
    long = event(LogicalResourceId="A" * 255)
    name = derive_job_name(ResourceEvent.from_dict(long), load_adapter("robomaker", no_botocore_clients), PROPS)
    assert len(name) == 64


def test_create_poll_success(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    handler = engine(clock)
    result = handler.on_event(event())
    (arn,) = fake.jobs
    assert result == {"PhysicalResourceId": arn}
    assert fake.calls == [(CREATE, create_body())]

    polled = after_on_event(event(), result)
    for status in ("Pending", "Running"):
        fake.jobs[arn]["status"] = status
        assert handler.is_complete(polled) == {"IsComplete": False}
    fake.jobs[arn]["status"] = "Completed"
    assert handler.is_complete(polled) == {
        "IsComplete": True,
        "Data": {
            consts.ATTR_JOB_ARN: arn,
            consts.ATTR_JOB_NAME: token(),
            consts.ATTR_STATUS: "Completed",
            consts.ATTR_OUTPUT_URI: "s3://exportconstructssample-exportsd637ff99-0123456789ab/robomaker/worlds/",
            consts.ATTR_QUEUED_SECONDS: "0",
        },
    }
    assert fake.operations == [CREATE, DESCRIBE, DESCRIBE, DESCRIBE] and sleeps == []


def test_failed_job_fails_with_the_services_code_and_reason(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock
) -> None:
    reason = "World arn:aws:robomaker:us-east-1:123456789012:world/sim-0f1e2d3c4b5a/world-0a1b2c3d was deleted."
    arn = fake.add_job("Failed", failureCode="ResourceNotFound", failureReason=reason)
    with pytest.raises(JobFailed) as failed:
        engine(clock).is_complete(event(PhysicalResourceId=arn))
    assert str(failed.value) == f"RoboMaker world export job {arn} ended with status Failed: ResourceNotFound: {reason}"


def test_a_job_canceled_elsewhere_fails_the_resource(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    arn = fake.add_job("Canceled")
    with pytest.raises(JobFailed, match=r"ended with status Canceled: the job was canceled"):
        engine(clock).is_complete(event(PhysicalResourceId=arn))


@pytest.mark.parametrize("unit", [1, 1000], ids=["epoch-seconds", "epoch-millis"])
def test_own_deadline_cancels_the_job_and_names_it_and_its_status(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock, unit: int
) -> None:
    fake.created_at = CREATED.timestamp() * unit
    arn = fake.add_job("Running")
    handler = engine(clock)
    polled = event(PhysicalResourceId=arn)
    clock.now = CREATED + timedelta(seconds=2999)
    assert handler.is_complete(polled) == {"IsComplete": False}
    assert fake.operations == [DESCRIBE]

    clock.now = CREATED + timedelta(seconds=3000)
    with pytest.raises(DeadlineExceeded) as late:
        handler.is_complete(polled)
    message = str(late.value)
    assert arn in message and "last status Running" in message and "3000 s" in message
    assert "the handler asked the service to stop it" in message
    assert fake.calls[-1] == (CANCEL, {"job": arn}) and fake.jobs[arn]["status"] == "Canceling"


def test_retried_create_gets_the_job_it_started(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    first = engine(clock).on_event(event())
    again = engine(clock).on_event(event())
    assert first == again and len(fake.jobs) == 1
    assert fake.calls == [(CREATE, create_body()), (CREATE, create_body())]


def test_a_warm_handler_reuses_its_client_across_invocations(
    fake: FakeRoboMaker, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """Lambda keeps the engine between invocations: one botocore session and connection pool."""
    made: list[RoboMakerClient] = []

    def make() -> RoboMakerClient:
        made.append(RoboMakerClient(sleep=lambda _: None, jitter=lambda: 1))
        return made[-1]

    monkeypatch.setattr(robomaker.Adapter, "make_client", make)
    handler = engine(clock)
    result = handler.on_event(event())
    polled = after_on_event(event(), result)
    for _ in range(3):
        assert handler.is_complete(polled) == {"IsComplete": False}
    assert len(made) == 1


def test_create_with_the_token_of_a_different_job_is_a_conflict(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock
) -> None:
    other = {**create_body(), "worlds": [REQUEST["worlds"][0]]}
    client(sleeps).call(CREATE, other, region=REGION)
    with pytest.raises(JobConflict, match=rf"'{token()}' already exists with other parameters.*same client token"):
        engine(clock).on_event(event())
    assert len(fake.jobs) == 1


def test_update_with_changed_request_starts_a_new_job(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    old = fake.add_job("Completed")
    new_props = copy.deepcopy(PROPS)
    new_props["Request"]["outputLocation"]["s3Prefix"] = "robomaker/worlds-v2/"
    assert token(new_props) != token()
    update = event("Update", PhysicalResourceId=old, ResourceProperties=new_props, OldResourceProperties=PROPS)
    result = engine(clock).on_event(update)
    assert result["PhysicalResourceId"] not in (old, None) and len(fake.jobs) == 2
    assert fake.calls == [(CREATE, create_body(new_props))]


def test_update_of_the_timeout_only_keeps_the_job(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    arn = fake.add_job("Running")
    new_props = {**PROPS, consts.PROP_TIMEOUT_SECONDS: "1200"}
    update = event("Update", PhysicalResourceId=arn, ResourceProperties=new_props, OldResourceProperties=PROPS)
    assert engine(clock).on_event(update) == {"PhysicalResourceId": arn}
    assert fake.calls == []


def test_delete_while_running_cancels_and_waits_for_the_cancel(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock
) -> None:
    arn = fake.add_job("Running")
    handler = engine(clock)
    delete = event("Delete", PhysicalResourceId=arn)
    assert handler.on_event(delete) == {"PhysicalResourceId": arn}
    assert fake.calls == [(DESCRIBE, {"job": arn}), (CANCEL, {"job": arn})]
    assert handler.is_complete(delete) == {"IsComplete": False}  # Canceling
    fake.jobs[arn]["status"] = "Canceled"
    assert handler.is_complete(delete) == {"IsComplete": True}
    assert fake.operations == [DESCRIBE, CANCEL, DESCRIBE, DESCRIBE]


def test_delete_while_canceling_does_not_cancel_again(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    arn = fake.add_job("Canceling")
    assert engine(clock).on_event(event("Delete", PhysicalResourceId=arn)) == {"PhysicalResourceId": arn}
    assert fake.operations == [DESCRIBE]


def test_a_job_that_ends_before_the_cancel_counts_as_stopped(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock
) -> None:
    arn = fake.add_job("Running")
    fake.faults = [
        Fault(CANCEL, 400, "InvalidParameterException", "Job is not running.", effect=lambda: complete(fake, arn))
    ]
    assert engine(clock).on_event(event("Delete", PhysicalResourceId=arn)) == {"PhysicalResourceId": arn}
    assert fake.operations == [DESCRIBE, CANCEL, DESCRIBE]


def complete(fake: FakeRoboMaker, arn: str) -> None:
    fake.jobs[arn]["status"] = "Completed"


@pytest.mark.parametrize(
    "physical_id",
    ["AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "0b7e5a9c-1111-4d2e-8f00-0123456789ab", ""],
)
def test_delete_of_something_that_is_not_a_job_does_nothing(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock, physical_id: str
) -> None:
    handler = engine(clock)
    delete = event("Delete", PhysicalResourceId=physical_id)
    assert handler.on_event(delete) == {"PhysicalResourceId": physical_id}
    assert handler.is_complete(delete) == {"IsComplete": True}
    assert fake.calls == []


def test_delete_of_a_job_that_is_gone_succeeds(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    gone = f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world-export-job/exp-0000gone"
    handler = engine(clock)
    delete = event("Delete", PhysicalResourceId=gone)
    assert handler.on_event(delete) == {"PhysicalResourceId": gone}
    assert handler.is_complete(delete) == {"IsComplete": True}
    assert fake.operations == [DESCRIBE, DESCRIBE]


@pytest.mark.parametrize("status", ["Failed", "Completed", "Canceled"])
def test_delete_of_a_finished_job_calls_no_cancel(
    fake: FakeRoboMaker, sleeps: list[float], clock: Clock, status: str
) -> None:
    arn = fake.add_job(status)
    handler = engine(clock)
    delete = event("Delete", PhysicalResourceId=arn)
    assert handler.on_event(delete) == {"PhysicalResourceId": arn}
    assert handler.is_complete(delete) == {"IsComplete": True}
    assert fake.operations == [DESCRIBE, DESCRIBE]


def test_create_errors_carry_the_services_message(fake: FakeRoboMaker, sleeps: list[float], clock: Clock) -> None:
    fake.faults = [Fault(CREATE, 403, "AccessDeniedException", "User is not authorized to perform: iam:PassRole")]
    with pytest.raises(RoboMakerError, match=r"AccessDeniedException \(HTTP 403\): User is not authorized.*PassRole"):
        engine(clock).on_event(event())
    assert fake.jobs == {}


def test_the_handler_asset_imports_the_adapter_without_cdk() -> None:
    package = Path(export_constructs.__file__).resolve().parent
    code = (
        "import sys; sys.modules.update(aws_cdk=None, constructs=None, jsii=None, export_constructs=None);"
        f"sys.path.insert(0, {str(package)!r});"
        "import handler.adapters.robomaker as m; assert m.Adapter(lambda _: None).can_stop is True"
    )
    subprocess.run([sys.executable, "-I", "-c", code], check=True, cwd="/")
