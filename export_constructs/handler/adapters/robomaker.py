"""AWS RoboMaker world export jobs (CreateWorldExportJob / DescribeWorldExportJob /
CancelWorldExportJob).

AWS ended support for RoboMaker on 2025-09-10, and botocore dropped its RoboMaker model
(2025-10-28): ``boto3.client("robomaker")`` raises ``UnknownServiceError``, so the engine's client
factory cannot serve this adapter. :class:`RoboMakerClient` below calls the REST-JSON API itself
(``POST /<operation>`` with a JSON body), signed with botocore's SigV4 signer and sent with
botocore's HTTP session; it retries the way botocore's standard mode does.

Idempotency: the job's client token is the engine's derived name, so a retried Create gets the
job it already started; a token reused with other parameters is a :class:`JobConflict`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from botocore.httpsession import URLLib3Session
from botocore.session import get_session

from ..clients import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, RETRY_CONFIG
from ..event import Arn
from .base import ExportJobAdapter, JobConflict, JobSpec, phase_map

LOG = logging.getLogger("export_constructs")

SIGNING_NAME = "robomaker"
#: Endpoint overrides, looked up in this order as botocore does (service-specific first).
ENDPOINT_ENV_VARS = ("AWS_ENDPOINT_URL_ROBOMAKER", "AWS_ENDPOINT_URL")
USER_AGENT = "export-constructs"

THROTTLING = "ThrottlingException"
RETRYABLE_CODES = frozenset({THROTTLING, "InternalServerException", "ServiceUnavailableException"})
NOT_FOUND = "ResourceNotFoundException"
INVALID_PARAMETER = "InvalidParameterException"
IDEMPOTENT_MISMATCH = "IdempotentParameterMismatchException"
LIMIT_EXCEEDED = "LimitExceededException"

# botocore's standard retry mode: t = rand(0, 1) * min(scale * 2 ** i, 20 s), with a scale of
# 1 s after throttling and 50 ms after other transient errors.
MAX_BACKOFF_SECONDS = 20.0
THROTTLING_SCALE = 1.0
TRANSIENT_SCALE = 0.05


class RoboMakerError(Exception):
    """An error answer from RoboMaker; the message carries the service's code and message."""

    def __init__(self, operation: str, code: str, message: str, status: int) -> None:
        super().__init__(f"RoboMaker {operation} failed with {code} (HTTP {status}): {message or 'no message'}")
        self.code = code
        self.message = message
        self.status = status


def endpoint_url(region: str) -> str:
    """``AWS_ENDPOINT_URL_ROBOMAKER``, else ``AWS_ENDPOINT_URL``, else the Region's endpoint;
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` ignores both variables, as in botocore."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        for name in ENDPOINT_ENV_VARS:
            if url := os.environ.get(name):
                return url.rstrip("/")
    return f"https://robomaker.{region}.amazonaws.com"


class RoboMakerClient:
    """RoboMaker's REST-JSON API: ``POST /<operation>`` with a JSON body, signed with SigV4.

    Throttling, ``InternalServerException``, ``ServiceUnavailableException``, any other 5xx and
    connection errors are retried with exponential backoff and full jitter, within the attempt
    budget of :data:`..clients.RETRY_CONFIG`. Credentials come from botocore's default chain.

    Args:
        sleep: waits between attempts. Default: ``time.sleep``.
        jitter: returns a number in [0, 1) that scales each backoff. Default: ``random.random``.
    """

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sleep = sleep
        self._jitter = jitter
        self._max_attempts = int(RETRY_CONFIG["total_max_attempts"])

    @functools.cached_property
    def _session(self) -> Any:
        return get_session()

    @functools.cached_property
    def _http(self) -> URLLib3Session:
        return URLLib3Session(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))

    def call(self, operation: str, body: Mapping[str, Any], *, region: str) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``"CreateWorldExportJob"``) and return the JSON answer.

        Raises:
            RoboMakerError: the service refused the request, or kept failing.
            botocore.exceptions.BotoCoreError: no credentials, or no connection after retries.
        """
        url = f"{endpoint_url(region)}/{operation[0].lower()}{operation[1:]}"
        payload = json.dumps(body, separators=(",", ":")).encode()
        attempt = 0
        while True:
            attempt += 1
            failure: Exception
            try:
                response = self._http.send(self._signed(url, payload, region).prepare())
            except (BotoConnectionError, HTTPClientError) as error:
                failure, scale = error, TRANSIENT_SCALE
            else:
                if response.status_code < 300:
                    answer: dict[str, Any] = json.loads(response.content or b"{}")
                    return answer
                refused = _error(operation, response.status_code, response.headers, response.content)
                if refused.code not in RETRYABLE_CODES and refused.status < 500:
                    raise refused
                failure, scale = refused, THROTTLING_SCALE if refused.code == THROTTLING else TRANSIENT_SCALE
            if attempt >= self._max_attempts:
                raise failure
            delay = self._jitter() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            LOG.warning(
                "RoboMaker %s attempt %d of %d failed (%s); retrying in %.2f s",
                operation,
                attempt,
                self._max_attempts,
                failure,
                delay,
            )
            self._sleep(delay)

    def _signed(self, url: str, payload: bytes, region: str) -> AWSRequest:
        request = AWSRequest(
            method="POST",
            url=url,
            data=payload,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        credentials = self._session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        SigV4Auth(frozen, SIGNING_NAME, region).add_auth(request)  # NoCredentialsError without any
        return request


def _error(operation: str, status: int, headers: Mapping[str, str], content: bytes) -> RoboMakerError:
    """The error code from ``x-amzn-ErrorType`` (before any ``:``), else the body's ``__type``
    (after any ``#``) or ``code``; the message from the body."""
    try:
        body = json.loads(content or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
    if not code:
        code = str(body.get("__type") or body.get("code") or "").rsplit("#", 1)[-1]
    message = str(body.get("message") or body.get("Message") or "")
    return RoboMakerError(operation, code or f"HTTP{status}", message, status)


class Adapter(ExportJobAdapter):
    label = "RoboMaker world export job"
    # clientRequestToken: 1-64 characters of [a-zA-Z0-9_\-=].
    name_max_length = 64
    name_invalid_chars = re.compile(r"[^a-zA-Z0-9_\-=]")
    job_id_pattern = re.compile(r"arn:[a-z\d-]+:robomaker:[a-z\d-]+:\d{12}:world-export-job/[\w.-]+")
    # CancelWorldExportJob: ResourceNotFoundException for a job that is gone,
    # InvalidParameterException for one that has ended (the API reference).
    stopping_status = "Canceling"
    stop_gone_errors = frozenset({NOT_FOUND})
    stop_ended_errors = frozenset({INVALID_PARAMETER})
    #: Builds the REST client on first use (the engine's botocore client factory cannot; see the
    #: module docstring). Tests replace it, e.g. to make backoff sleeps instant.
    make_client: ClassVar[Callable[[], RoboMakerClient]] = RoboMakerClient
    # botocore no longer has RoboMaker's model (removed with the service's end of support); the
    # RoboMaker API reference lists LimitExceededException among CreateWorldExportJob's errors
    # ("the requested resource exceeds the maximum number allowed, or the number of concurrent
    # stream requests exceeds the maximum number allowed"); no number of concurrent world export
    # jobs is documented. RETRYABLE_CODES does not retry it. Whether a retried start with the same
    # clientRequestToken is refused as over the quota before RoboMaker finds its job is not
    # documented either (there is no find by token).
    quota_errors = frozenset({LIMIT_EXCEEDED})
    # Pending, Running and Canceling: running.
    phases = phase_map(succeeded=["Completed"], failed=["Failed", "Canceled"])
    state_members = ("status", "createdAt", "")
    reason_members = ("failureCode", "failureReason")
    ended_reasons = MappingProxyType({"Canceled": "the job was canceled"})

    @functools.cached_property
    def _client(self) -> RoboMakerClient:
        return type(self).make_client()

    def start(self, spec: JobSpec) -> str:
        body = {**spec.request, "clientRequestToken": spec.name}
        try:
            job = self._client.call("CreateWorldExportJob", body, region=_region(spec.stack))
        except RoboMakerError as error:
            if error.code == IDEMPOTENT_MISMATCH:
                raise JobConflict(error.message or error.code) from error
            raise
        return str(job["arn"])

    def _describe_raw(self, job_id: str) -> Mapping[str, Any]:
        region = _region(Arn.parse(job_id))
        return self._found(job_id, lambda: self._client.call("DescribeWorldExportJob", {"job": job_id}, region=region))

    def request_stop(self, job_id: str) -> None:
        self._client.call("CancelWorldExportJob", {"job": job_id}, region=_region(Arn.parse(job_id)))

    def output_uri(self, request: Mapping[str, Any]) -> str:
        location = request["outputLocation"]
        return f"s3://{location['s3Bucket']}/{location.get('s3Prefix', '')}"


def _region(arn: Arn) -> str:
    """The job's (or stack's) own Region; the function's Region only if the ARN has none."""
    region = arn.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ValueError(f"no Region in {arn} and none in AWS_REGION or AWS_DEFAULT_REGION")
    return region
