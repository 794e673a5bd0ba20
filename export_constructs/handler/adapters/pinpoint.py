"""Amazon Pinpoint endpoint export jobs (CreateExportJob / GetExportJob / GetExportJobs).

Pinpoint has no API to cancel an export job: Delete and the handler's deadline leave a running
job to finish on its own (its output stays in S3).

Job ids: GetExportJob needs the project (application) id and the job id, so the physical id is
the job's IAM resource ARN, ``arn:<partition>:mobiletargeting:<region>:<account>:apps/<app id>/
jobs/export/<job id>``, built from the stack's partition, Region and account.

Idempotency: CreateExportJob has no name and no client token. Before creating, :meth:`Adapter.start`
lists the project's export jobs (GetExportJobs, at most ``ExportJobAdapter.max_list_pages`` pages;
the API does not document their order) and adopts one whose ``Definition`` equals the request (RoleArn,
S3UrlPrefix, SegmentId, SegmentVersion) as ``ExportJobAdapter._adoptable`` chooses: running, or
completed within the resource's timeout, at most ``base.ADOPTION_WINDOW_SECONDS``; never a failed
one, so a Create retried after a failure gets a fresh job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from .. import consts
from .base import ExportJobAdapter, JobSpec, Phase, from_properties, phase_map, shorten

LOG = logging.getLogger("export_constructs")

#: The attributes a described job gives of its progress, by member (0 where it has none).
COUNTS = {
    consts.ATTR_TOTAL_PIECES: "TotalPieces",
    consts.ATTR_COMPLETED_PIECES: "CompletedPieces",
    consts.ATTR_FAILED_PIECES: "FailedPieces",
    consts.ATTR_TOTAL_FAILURES: "TotalFailures",
}
NOT_FOUND = "NotFoundException"
JOB_ARN = re.compile(
    r"arn:(?P<partition>[a-z\d-]+):mobiletargeting:(?P<region>[a-z\d-]+):(?P<account>\d{12})"
    r":apps/(?P<app>[A-Za-z0-9]+)/jobs/export/(?P<job>[A-Za-z0-9_-]+)"
)


class Adapter(ExportJobAdapter):
    label = "Pinpoint export job"
    job_id_pattern = JOB_ARN
    # No quota refusal: botocore's model (pinpoint 2016-12-01) lists no LimitExceededException
    # for CreateExportJob (only BadRequest, InternalServerError, PayloadTooLarge, Forbidden,
    # NotFound, MethodNotAllowed and TooManyRequests, the last a throttle botocore retries), and
    # Pinpoint documents no concurrency quota for export jobs. A job is never queued on the
    # service's word (quota_errors stays empty).
    client_name = "pinpoint"
    not_found_errors = frozenset({NOT_FOUND})
    # Running: CREATED, PREPARING_FOR_INITIALIZATION, INITIALIZING, PROCESSING, PENDING_JOB, COMPLETING.
    phases = phase_map(succeeded=["COMPLETED"], failed=["FAILED", "FAILING"])
    state_members = ("JobStatus", "CreationDate", "")
    output_path = ("ExportJobRequest", "S3UrlPrefix")
    list_call = ("get_export_jobs", "ExportJobsResponse", "Item", "Token", "NextToken")

    # -- start ----------------------------------------------------------------------------------

    def start(self, spec: JobSpec) -> str:
        app = str(spec.request["ApplicationId"])
        wanted = _definition(spec.request["ExportJobRequest"])
        listed = self._listed(f"project {app}", ApplicationId=app)
        same = (job for job in listed if _definition(job.get("Definition") or {}) == wanted)
        adopted = self._adoptable(same, spec.retried_since, "Id")
        if adopted is not None:
            LOG.info("adopting Pinpoint export job %s of project %s (a retried Create)", adopted, app)
            return _job_arn(spec, app, adopted)
        response = self._client.create_export_job(ApplicationId=app, ExportJobRequest=wanted)
        return _job_arn(spec, app, str(response["ExportJobResponse"]["Id"]))

    # -- observe --------------------------------------------------------------------------------

    def _describe_raw(self, job_id: str) -> Mapping[str, Any]:
        match = JOB_ARN.fullmatch(job_id)
        if match is None:
            raise ValueError(f"not a {self.label} id: {job_id!r}")
        app, job_id_only = match["app"], match["job"]
        response = self._found(job_id, lambda: self._client.get_export_job(ApplicationId=app, JobId=job_id_only))
        return {"Id": job_id_only, **response["ExportJobResponse"]}

    def _reason(self, job: Mapping[str, Any], status: str) -> str | None:
        if self.phase_of(status) is not Phase.FAILED:
            return None
        if job.get("Failures"):
            return _failures(job)
        return (
            f"Pinpoint gave no failure entries; {job.get('FailedPieces', '?')} of {job.get('TotalPieces', '?')} "
            f"pieces failed, {job.get('TotalFailures', '?')} endpoint definitions in all"
        )

    def _attributes(self, job: Mapping[str, Any]) -> Mapping[str, str]:
        counts = {attribute: str(job.get(member, 0)) for attribute, member in COUNTS.items()}
        return {consts.ATTR_PINPOINT_JOB_ID: str(job["Id"]), **counts, consts.ATTR_FAILURES: _failures(job)}


def _failures(job: Mapping[str, Any]) -> str:
    """The described ``job``'s failure entries, joined and shortened (``""`` where it has none)."""
    return shorten("; ".join(str(f) for f in job.get("Failures") or []))


def _definition(request: Mapping[str, Any]) -> dict[str, Any]:
    """The ExportJobRequest as boto3 wants it, which is also how GetExportJob(s) reports a job's
    ``Definition``: ``SegmentVersion`` arrives from CloudFormation as ``"3"`` and goes out as ``3``."""
    segment = from_properties(
        {"SegmentId": request.get("SegmentId"), "SegmentVersion": request.get("SegmentVersion")},
        integers=["SegmentVersion"],
    )
    return {"RoleArn": request.get("RoleArn"), "S3UrlPrefix": request.get("S3UrlPrefix"), **segment}


def _job_arn(spec: JobSpec, app: str, job_id: str) -> str:
    s = spec.stack
    arn = f"arn:{s.partition}:mobiletargeting:{s.region}:{s.account}:apps/{app}/jobs/export/{job_id}"
    if not JOB_ARN.fullmatch(arn):
        raise ValueError(f"unexpected Pinpoint project or job id: {arn!r}")
    return arn
