"""Jobs refused because the service's concurrency quota is full are queued, against
botocore's Stubber for Forecast (quota 3, ``LimitExceededException``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from export_constructs.handler import consts
from export_constructs.handler.engine import DeadlineExceeded, Engine, load_adapter
from export_constructs.handler.tracker import Tracker

from .conftest import Clock, stubbed_client
from .events import after_on_event
from .test_forecast import CREATED, REQUEST, describe, describe_gone, event, expected_create, job_arn, job_name

QUEUED_ID = f"queued:{job_name()}"
TIMEOUT = int(event()["ResourceProperties"][consts.PROP_TIMEOUT_SECONDS])


@pytest.fixture
def forecast() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("forecast")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def engine_for(client: Any, clock: Clock, sleeps: Sleeps | None = None) -> Engine:
    return Engine(lambda _: client, clock=clock, sleep=sleeps if sleeps is not None else Sleeps(), jitter=lambda: 0.5)


def refuse(stub: Stubber) -> None:
    stub.add_client_error(
        "create_forecast_export_job",
        "LimitExceededException",
        "You have reached the limit of 3 concurrent export jobs",
        expected_params=expected_create(),
    )


def queued(clock: Clock, client: Any, stub: Stubber) -> dict[str, Any]:
    """A Create refused over the quota, as the framework passes it to isComplete."""
    refuse(stub)
    clock.now = CREATED
    result = engine_for(client, clock).on_event(event())
    return after_on_event(event(), result)


def test_the_forecast_adapter_declares_its_quota_error() -> None:
    forecast = load_adapter("forecast", lambda _: None)
    assert forecast.quota_errors == {"LimitExceededException"}
    assert load_adapter("pinpoint", lambda _: None).quota_errors == frozenset()


def test_a_create_refused_over_the_quota_is_queued_not_failed(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    refuse(stub)
    clock.now = CREATED
    assert engine_for(client, clock).on_event(event()) == {
        "PhysicalResourceId": QUEUED_ID,
        consts.EVENT_QUEUED_AT: CREATED.isoformat(),
    }


def test_a_queued_poll_tries_the_start_again_after_a_jitter(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    polled = queued(clock, client, stub)
    sleeps = Sleeps()
    clock.now = CREATED + timedelta(seconds=60)
    describe_gone(stub)  # not started by an earlier poll
    refuse(stub)
    assert engine_for(client, clock, sleeps).is_complete(polled) == {"IsComplete": False}
    assert sleeps == [0.5 * consts.QUEUE_JITTER_SECONDS]

    describe_gone(stub)
    stub.add_response("create_forecast_export_job", {"ForecastExportJobArn": job_arn()}, expected_create())
    describe(stub, "CREATE_PENDING")
    assert engine_for(client, clock).is_complete(polled) == {"IsComplete": False}


def test_once_started_a_queued_job_completes_with_its_id_and_how_long_it_waited(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = forecast
    polled = queued(clock, client, stub)
    polled[consts.EVENT_QUEUED_AT] = (CREATED - timedelta(seconds=420)).isoformat()  # 7 minutes in the queue
    clock.now = CREATED + timedelta(seconds=600)
    describe(stub, "ACTIVE")  # found (a poll before this one started it): no create, no second describe
    answer = engine_for(client, clock).is_complete(polled)
    assert answer["IsComplete"] is True
    assert answer["PhysicalResourceId"] == job_arn()  # replaces queued:<name> (framework.js)
    assert answer["Data"][consts.ATTR_JOB_ARN] == job_arn()
    assert answer["Data"][consts.ATTR_QUEUED_SECONDS] == "420"


def test_a_job_still_queued_at_its_deadline_fails_naming_service_error_and_wait(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = forecast
    polled = queued(clock, client, stub)
    clock.now = CREATED + timedelta(seconds=TIMEOUT - 1)
    describe_gone(stub)
    refuse(stub)
    assert engine_for(client, clock).is_complete(polled) == {"IsComplete": False}

    clock.now = CREATED + timedelta(seconds=TIMEOUT)
    describe_gone(stub)
    refuse(stub)
    with pytest.raises(DeadlineExceeded) as late:
        engine_for(client, clock).is_complete(polled)
    message = str(late.value)
    assert "Forecast export job" in message and "LimitExceededException" in message
    assert f"{TIMEOUT} s" in message and "still queued" in message and "No job was started" in message


def test_the_timeout_of_a_job_that_was_queued_counts_from_the_create(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = forecast
    polled = queued(clock, client, stub)
    # The job was created 10 s ago, after waiting in the queue until the timeout was nearly up.
    clock.now = CREATED + timedelta(seconds=TIMEOUT)
    stub.add_response(
        "describe_forecast_export_job",
        {**_described("CREATE_IN_PROGRESS"), "CreationTime": clock.now - timedelta(seconds=10)},
        {"ForecastExportJobArn": job_arn()},
    )
    stub.add_response("stop_resource", {}, {"ResourceArn": job_arn()})
    with pytest.raises(DeadlineExceeded, match="asked the service to stop it"):
        engine_for(client, clock).is_complete(polled)


def _described(status: str) -> dict[str, Any]:
    return {
        "ForecastExportJobArn": job_arn(),
        "ForecastExportJobName": job_name(),
        "ForecastArn": REQUEST["ForecastArn"],
        "Destination": REQUEST["Destination"],
        "Status": status,
    }


def test_deleting_a_queued_job_stops_nothing_and_succeeds(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    deleted = event("Delete", PhysicalResourceId=QUEUED_ID)
    describe_gone(stub)  # never started: no stop, no delete
    assert engine_for(client, clock).on_event(deleted) == {"PhysicalResourceId": QUEUED_ID}
    describe_gone(stub)
    assert engine_for(client, clock).is_complete(deleted) == {"IsComplete": True}


def test_deleting_a_queued_id_whose_job_a_poll_started_deletes_that_job(
    forecast: tuple[Any, Stubber], clock: Clock
) -> None:
    client, stub = forecast
    deleted = event("Delete", PhysicalResourceId=QUEUED_ID)
    describe(stub, "CREATE_FAILED", message="failed")  # found
    describe(stub, "CREATE_FAILED", message="failed")
    assert engine_for(client, clock).on_event(deleted) == {"PhysicalResourceId": QUEUED_ID}
    describe(stub, "CREATE_FAILED", message="failed")
    describe(stub, "CREATE_FAILED", message="failed")
    stub.add_response("delete_forecast_export_job", {}, {"ForecastExportJobArn": job_arn()})
    assert engine_for(client, clock).is_complete(deleted) == {"IsComplete": False}


def test_the_long_wait_tracker_retries_a_queued_start(forecast: tuple[Any, Stubber], clock: Clock) -> None:
    client, stub = forecast
    polled = queued(clock, client, stub)
    signals: list[Any] = []
    tracker = Tracker(engine_for(client, clock), send=lambda url, body: signals.append(body))
    polled["ResourceProperties"] = {**polled["ResourceProperties"], consts.PROP_WAIT_HANDLE: "https://handle"}
    describe_gone(stub)
    refuse(stub)
    assert tracker.track({"Event": polled}) == {"Done": False, "Outcome": None}
    clock.now = CREATED + timedelta(seconds=TIMEOUT)
    describe_gone(stub)
    refuse(stub)
    assert tracker.track({"Event": polled}) == {"Done": True, "Outcome": "FAILURE"}
    assert "still queued" in signals[0]["Reason"]


def test_botocore_answers_a_starts_quota_refusal_at_once_and_still_retries_other_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import http.server
    import json
    import threading

    import boto3

    from export_constructs.handler import clients

    attempts: list[str] = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            attempts.append(self.headers["X-Amz-Target"].rsplit(".", 1)[-1])
            body = json.dumps({"__type": "LimitExceededException", "Message": "full"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(clients.RETRY_CONFIG, "total_max_attempts", 2)  # one quick retry
    try:
        client = clients.queue_instead_of_retrying(
            boto3.client(
                "forecast",
                region_name="us-east-1",
                endpoint_url=f"http://127.0.0.1:{server.server_port}",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=clients.botocore_config(),
            )
        )
        with pytest.raises(client.exceptions.LimitExceededException):
            client.create_forecast_export_job(ForecastExportJobName="j", **REQUEST)
        with pytest.raises(client.exceptions.LimitExceededException):
            client.describe_forecast_export_job(ForecastExportJobArn=job_arn())
    finally:
        server.shutdown()
    assert attempts == ["CreateForecastExportJob", "DescribeForecastExportJob", "DescribeForecastExportJob"]
