"""Amazon Forecast export jobs (CreateForecastExportJob / DescribeForecastExportJob /
StopResource / DeleteForecastExportJob).

A running job can be stopped (``StopResource``: ``CREATE_STOPPING`` -> ``CREATE_STOPPED``).
Forecast keeps every export job's record, and its name stays taken, until the job is deleted;
so Delete stops a running job, waits until it has stopped, and then deletes the record (never
the S3 output). Forecast deletes only jobs that are no longer running.

Amazon Forecast is closed to new customers since July 2024; existing customers keep using it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..event import Arn
from .base import ExportJobAdapter, JobSpec, phase_map

NOT_FOUND = "ResourceNotFoundException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
IN_USE = "ResourceInUseException"
INVALID_INPUT = "InvalidInputException"
LIMIT_EXCEEDED = "LimitExceededException"
#: The job's id in Forecast's requests and answers.
ID = "ForecastExportJobArn"

#: Forecast's own default when a request has no ``Format``.
DEFAULT_FORMAT = "CSV"

# Forecast names (forecasts and export jobs alike): ^[a-zA-Z][a-zA-Z0-9_]*, 1-63 characters.
_NAME = r"[a-zA-Z][a-zA-Z0-9_]{0,62}"


class Adapter(ExportJobAdapter):
    label = "Forecast export job"
    # The base's name rules (63 characters, dropping all but letters, digits and "_") fit: derived
    # names are "<ex + hex>_<logical id>_<hex digest>", which start with a letter, so they stay
    # within ^[a-zA-Z][a-zA-Z0-9_]*.
    job_id_pattern = re.compile(rf"arn:[a-z\d-]+:forecast:[a-z\d-]+:\d{{12}}:forecast-export-job/{_NAME}/{_NAME}")
    stopping_status = "CREATE_STOPPING"
    stop_gone_errors = frozenset({NOT_FOUND})
    stop_ended_errors = frozenset({INVALID_INPUT, IN_USE})
    # botocore's model (forecast 2018-06-26) lists LimitExceededException among
    # CreateForecastExportJob's errors: "The limit on the number of resources per account has been
    # exceeded." Forecast documents at most 3 parallel export jobs (its quotas page:
    # https://docs.aws.amazon.com/forecast/latest/dg/limits.html); that a full quota answers this
    # code is the model's word, not seen live.
    quota_errors = frozenset({LIMIT_EXCEEDED})
    client_name = "forecast"
    # Running: CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_STOPPING. A job being deleted (or that
    # failed to be) is not going to succeed.
    phases = phase_map(
        succeeded=["ACTIVE"],
        failed=["CREATE_FAILED", "CREATE_STOPPED", "DELETE_PENDING", "DELETE_IN_PROGRESS", "DELETE_FAILED"],
    )
    describe_call = ("describe_forecast_export_job", ID, "")
    state_members = ("Status", "CreationTime", "Message")
    reason_members = ("Message",)
    ended_reasons = MappingProxyType({"CREATE_STOPPED": "the job was stopped"})
    output_path = ("Destination", "S3Config", "Path")
    adopt_members = (("ForecastArn", None), ("Destination", None), ("Format", DEFAULT_FORMAT))
    # Delete removes an ended job's record: "You can delete only export jobs that have a status of
    # ACTIVE or CREATE_FAILED" (a stopped job has ended as well); a job Forecast is deleting, or
    # will not delete, answers ResourceInUse or InvalidInput
    # (https://docs.aws.amazon.com/forecast/latest/dg/API_DeleteForecastExportJob.html).
    delete_call = ("delete_forecast_export_job", ID)
    deletable_statuses = frozenset({"ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"})
    deleting_statuses = frozenset({"DELETE_PENDING", "DELETE_IN_PROGRESS"})
    delete_failed_status = "DELETE_FAILED"
    delete_refused_errors = frozenset({IN_USE, INVALID_INPUT})

    def job_id_of(self, spec: JobSpec) -> str:
        return job_arn_for(spec.stack, str(spec.request["ForecastArn"]), spec.name)

    def start(self, spec: JobSpec) -> str:
        request = {"ForecastExportJobName": spec.name, **spec.request}
        return self._create_or_adopt(spec, lambda: self._client.create_forecast_export_job(**request), ID)

    def _conflict(self, job: Mapping[str, Any]) -> str:
        return f"{super()._conflict(job)} as {job.get('Format', DEFAULT_FORMAT)}"

    # -- stop -------------------------------------------------------------------------------

    def request_stop(self, job_id: str) -> None:
        """StopResource: a job that is gone answers ResourceNotFoundException, one that ended
        InvalidInputException or ResourceInUseException."""
        self._client.stop_resource(ResourceArn=job_id)


def job_arn_for(stack: Arn, forecast_arn: str, name: str) -> str:
    """``arn:<partition>:forecast:<region>:<account>:forecast-export-job/<forecast name>/<name>``,
    in the stack's partition, Region and account (where the handler creates the job)."""
    kind, _, forecast_name = Arn.parse(forecast_arn).resource.partition("/")
    if kind != "forecast" or not forecast_name:
        raise ValueError(f"not a forecast ARN: {forecast_arn!r}")
    s = stack
    return f"arn:{s.partition}:forecast:{s.region}:{s.account}:forecast-export-job/{forecast_name}/{name}"
