"""AWS RoboMaker world export jobs (CreateWorldExportJob / DescribeWorldExportJob /
CancelWorldExportJob).

AWS ended support for RoboMaker on 2025-09-10, and botocore dropped its RoboMaker model
(2025-10-28): ``boto3.client("robomaker")`` raises ``UnknownServiceError``, so the engine's client
factory cannot serve this adapter. :class:`RoboMakerClient` calls the REST-JSON API itself
(``..clients.RestJsonClient``).

Idempotency: the job's client token is the engine's derived name, so a retried Create gets the
job it already started; a token reused with other parameters is a :class:`JobConflict`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from ..clients import RestJsonClient, RestJsonError
from ..event import Arn
from .base import ExportJobAdapter, JobConflict, JobSpec, phase_map

NOT_FOUND = "ResourceNotFoundException"
INVALID_PARAMETER = "InvalidParameterException"
IDEMPOTENT_MISMATCH = "IdempotentParameterMismatchException"
LIMIT_EXCEEDED = "LimitExceededException"


class RoboMakerError(RestJsonError):
    """An error answer from RoboMaker; the message carries the service's code and message."""

    service = "RoboMaker"


class RoboMakerClient(RestJsonClient):
    """RoboMaker's REST-JSON API (see :class:`..clients.RestJsonClient` for its arguments)."""

    signing_name = "robomaker"
    error = RoboMakerError


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
