"""Amazon Forecast export jobs (CreateForecastExportJob / DescribeForecastExportJob /
StopResource / DeleteForecastExportJob).

A running job can be stopped (``StopResource``: ``CREATE_STOPPING`` -> ``CREATE_STOPPED``).
Forecast keeps every export job's record, and its name stays taken, until the job is deleted;
so Delete stops a running job, waits until it has stopped, and then deletes the record (never
the S3 output). Forecast deletes only jobs that are no longer running.

Amazon Forecast is closed to new customers since July 2024; existing customers keep using it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from botocore.exceptions import ClientError

from ..event import Arn
from .base import ExportJobAdapter, JobSpec, JobState, error_code, phase_map

LOG = logging.getLogger("export_constructs")

NOT_FOUND = "ResourceNotFoundException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
IN_USE = "ResourceInUseException"
INVALID_INPUT = "InvalidInputException"
LIMIT_EXCEEDED = "LimitExceededException"
#: The job's id in Forecast's requests and answers.
ID = "ForecastExportJobArn"

#: Forecast's own default when a request has no ``Format``.
DEFAULT_FORMAT = "CSV"

#: Ended jobs whose record Delete removes (Forecast documents ACTIVE and CREATE_FAILED; a stopped
#: job has ended as well).
_DELETABLE = frozenset({"ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"})
_DELETING = frozenset({"DELETE_PENDING", "DELETE_IN_PROGRESS"})

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

    def job_id_of(self, spec: JobSpec) -> str:
        return job_arn_for(spec.stack, str(spec.request["ForecastArn"]), spec.name)

    def start(self, spec: JobSpec) -> str:
        request = {"ForecastExportJobName": spec.name, **spec.request}
        return self._create_or_adopt(spec, lambda: self._client.create_forecast_export_job(**request), ID)

    def _conflict(self, job: Mapping[str, Any]) -> str:
        return f"{super()._conflict(job)} as {job.get('Format', DEFAULT_FORMAT)}"

    # -- stop and delete --------------------------------------------------------------------

    def request_stop(self, job_id: str) -> None:
        """StopResource: a job that is gone answers ResourceNotFoundException, one that ended
        InvalidInputException or ResourceInUseException."""
        self._client.stop_resource(ResourceArn=job_id)

    def release(self, job_id: str, state: JobState) -> bool:
        """Delete the job's record once it has ended, so its name is free again; the S3 output
        stays. Return False while the deletion is under way (the next poll sees it gone)."""
        if state.status in _DELETING:
            return False
        if state.status == "DELETE_FAILED":
            LOG.warning(
                "%s %s: Forecast failed to delete it (%s); leaving it in place. Its S3 output is kept.",
                self.label,
                job_id,
                state.reason or "no reason given",
            )
            return True
        if state.status not in _DELETABLE:
            LOG.warning("%s %s is %s: not deleting it; its S3 output is kept.", self.label, job_id, state.status)
            return True
        try:
            self._client.delete_forecast_export_job(ForecastExportJobArn=job_id)
        except ClientError as error:
            code = error_code(error)
            if code == NOT_FOUND:
                return True
            if code in (IN_USE, INVALID_INPUT):
                # Deleted concurrently, or a state Forecast will not delete from: waiting would only
                # hold the stack until CloudFormation's hour is up.
                LOG.warning(
                    "%s %s (%s): Forecast refused to delete it (%s); leaving it in place. Its S3 output is kept.",
                    self.label,
                    job_id,
                    state.status,
                    error,
                )
                return True
            raise
        LOG.info("%s %s: deletion requested (its S3 output is kept)", self.label, job_id)
        return False


def job_arn_for(stack: Arn, forecast_arn: str, name: str) -> str:
    """``arn:<partition>:forecast:<region>:<account>:forecast-export-job/<forecast name>/<name>``,
    in the stack's partition, Region and account (where the handler creates the job)."""
    kind, _, forecast_name = Arn.parse(forecast_arn).resource.partition("/")
    if kind != "forecast" or not forecast_name:
        raise ValueError(f"not a forecast ARN: {forecast_arn!r}")
    s = stack
    return f"arn:{s.partition}:forecast:{s.region}:{s.account}:forecast-export-job/{forecast_name}/{name}"
