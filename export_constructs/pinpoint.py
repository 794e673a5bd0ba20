"""Amazon Pinpoint endpoint export (CreateExportJob).

AWS ended support for Amazon Pinpoint on 2026-10-30; the construct warns about it at synth.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import _defaults
from ._job import ExportJobBase, JobAttribute, PathRule, RoleRule
from ._memo import role_arn_of
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination
from .handler import consts
from .services import PINPOINT as SERVICE

# The API reference (CreateExportJob) and botocore's model constrain nothing but the required members; the
# rules below are what the API reference says in prose.
#: A Pinpoint project (application) id: 32 hexadecimal digits, as Pinpoint makes them (a UUID
#: without its dashes). AWS's own API model for it (Amazon Cognito's
#: ``AnalyticsConfigurationType.ApplicationId``, a Pinpoint project id) is ``HexStringType``,
#: ``^[0-9a-fA-F]+$``; Pinpoint writes its ids in lower case, but no AWS model states the case,
#: so it is not enforced.
APPLICATION_ID_LENGTH = 32
APPLICATION_ID_PATTERN = r"[0-9a-fA-F]{32}"
APPLICATION_ID = Text.of(
    APPLICATION_ID_PATTERN,
    f"the project id shown on the Pinpoint console, {APPLICATION_ID_LENGTH} hexadecimal digits",
    "0123456789abcdef0123456789abcdef",
    min_len=1,
)
#: ``S3UrlPrefix``: "The URL should be in the following format: s3://bucket-name/folder-name/".
S3_URL_PREFIX_PATTERN = r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+/"
S3_URL_PREFIX = PathRule(
    Text.of(
        S3_URL_PREFIX_PATTERN,
        "an S3UrlPrefix s3://<bucket>/<folder>/ (built from the destination's bucket and the prefix)",
        "s3://my-exports/pinpoint/endpoints/",
    ),
    folder="Pinpoint's S3UrlPrefix has the form s3://bucket-name/folder-name/",
)
#: ``RoleArn``: "The ARN of the IAM role that authorizes Amazon Pinpoint to access the S3 location".
ROLE_ARN_PATTERN = r"arn:[a-z\d-]+:iam::\d{12}:role/.+"
ROLE = RoleRule(ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/PinpointExport")
#: ``SegmentVersion`` is an ``integer`` (the API reference): 32 bits in AWS's models.
MAX_SEGMENT_VERSION = 2**31 - 1
SEGMENT_VERSION_MIN = (1, "segment versions start at 1")
SEGMENT_VERSION_MAX = (MAX_SEGMENT_VERSION, "the API's 32-bit integer")

HANDLER_ACTIONS = [
    "mobiletargeting:CreateExportJob",
    "mobiletargeting:GetExportJob",
    "mobiletargeting:GetExportJobs",
]

REASON_EXPORT_JOBS = (
    "Pinpoint generates export job ids (there is no job name to scope by), so the handler may read the "
    "export jobs of this Pinpoint project only (mobiletargeting:GetExportJob on apps/<project>/jobs/export/*)."
)
REASON_ALL_APPS = (
    "This stack exports from more Pinpoint projects than the handler's policy can list within IAM's size "
    "limits, so it covers the export jobs of every project in this account and Region (apps/*) and nothing "
    "else: only CreateExportJob, GetExportJob and GetExportJobs are allowed."
)


class PinpointExportJob(ExportJobBase):
    """Exports the endpoint definitions of an Amazon Pinpoint project (or of one of its segments)
    to S3 and waits for the export to finish.

    Create starts an export job (CreateExportJob) and the stack waits until its ``JobStatus`` is
    ``COMPLETED``; a ``FAILED`` (or ``FAILING``) job fails the resource with Pinpoint's
    ``Failures``. While it runs, the job's progress is polled (GetExportJob); on success the
    resource exposes ``TotalPieces``, ``CompletedPieces``, ``FailedPieces``, ``TotalFailures``,
    ``Failures`` and ``PinpointJobId`` besides the common attributes. Changing any prop but
    ``timeout`` starts a new job; changing only ``timeout`` keeps the job.

    There is no API to cancel a Pinpoint export job: Delete does nothing to the job (it runs to
    its end), and the S3 output stays. When the job outlives ``timeout``, the resource fails
    saying that the job may still be running.

    Pinpoint export jobs have no name and no client token. A retried Create adopts the job it
    already started instead of starting a second one: before creating, the handler lists the
    project's export jobs and adopts the newest one with the same definition (role, S3 URL,
    segment and segment version) that is still running, or that completed and was created within
    the last hour (CloudFormation's limit for a custom resource); failed jobs are never adopted.
    Two jobs of one project with the same role, destination, prefix and segment therefore share
    one export (give each job its own ``prefix``), and an Update back to a definition exported
    less than an hour ago gets that export again rather than a new one.

    AWS ended support for Amazon Pinpoint on 2026-10-30 (the construct adds a warning with AWS's
    migration guidance).

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        application_id: the Pinpoint project id (``Project ID`` on the console; 32 hexadecimal
            digits, e.g. ``0123456789abcdef0123456789abcdef``).
        destination: where the output goes; Pinpoint's ``S3UrlPrefix`` is
            ``s3://<bucket>/<prefix>``.
        prefix: key prefix in the destination bucket: a folder, not empty, ending in ``/``.
            Default: ``pinpoint/<construct path>/``.
        segment_id: the segment whose endpoints to export. Default: none - every endpoint of
            the project.
        segment_version: the version of ``segment_id`` to export (an integer >= 1; requires
            ``segment_id``). Default: none - Pinpoint chooses the segment's version.
        role: the role Pinpoint assumes to write (an IAM role ARN of the stack's account).
            Default: a least-privilege role trusting ``pinpoint.amazonaws.com`` for this project
            only (``aws:SourceArn``), shared by this stack's exports of the project into
            ``destination``; it may put objects under the jobs' prefixes, list the bucket and use
            the destination's key to encrypt (kms:GenerateDataKey, kms:Decrypt).
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    application_id: str
    """The Pinpoint project id."""

    # Pinpoint's own attributes, made on first use like the common ones.
    total_pieces = JobAttribute(consts.ATTR_TOTAL_PIECES)
    """Pieces the job was split into (``Fn::GetAtt TotalPieces``)."""
    completed_pieces = JobAttribute(consts.ATTR_COMPLETED_PIECES)
    """Pieces exported (``Fn::GetAtt CompletedPieces``)."""
    failed_pieces = JobAttribute(consts.ATTR_FAILED_PIECES)
    """Pieces that failed (``Fn::GetAtt FailedPieces``)."""
    total_failures = JobAttribute(consts.ATTR_TOTAL_FAILURES)
    """Endpoint definitions that failed (``Fn::GetAtt TotalFailures``)."""
    failures = JobAttribute(consts.ATTR_FAILURES)
    """Pinpoint's ``Failures`` (its first 100 failed entries), joined with ``; `` and shortened
    to fit CloudFormation's response (``Fn::GetAtt Failures``); empty when none failed."""
    pinpoint_job_id = JobAttribute(consts.ATTR_PINPOINT_JOB_ID)
    """Pinpoint's own job id (``Fn::GetAtt PinpointJobId``). ``job_arn`` is the job's IAM
    resource ARN, ``arn:<partition>:mobiletargeting:<region>:<account>:apps/<project>/jobs/export/<job id>``."""

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        application_id: str,
        destination: ExportDestination,
        prefix: str | None = None,
        segment_id: str | None = None,
        segment_version: int | None = None,
        role: iam.IRole | None = None,
        timeout: Duration = _defaults.DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        problems.text("application_id", application_id, APPLICATION_ID)
        problems.text("segment_id", segment_id, Text(min_len=1))
        if segment_version is not None and segment_id is None:
            problems.add("segment_version", "requires segment_id: it is the version of that segment")
        problems.number("segment_version", segment_version, low=SEGMENT_VERSION_MIN, high=SEGMENT_VERSION_MAX)
        self._check_role(problems, role, ROLE)
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        s3_url_prefix = self._check_path(problems, destination, S3_URL_PREFIX)
        self._accept(problems, destination, None)

        app_arn = self._provider._arn("mobiletargeting", "apps", application_id)
        self.application_id = application_id
        self._write_into(destination, role=role, source_arn=app_arn, share_key=application_id)

        export_request = {
            "RoleArn": role_arn_of(self.role),
            "S3UrlPrefix": s3_url_prefix,
            "SegmentId": segment_id,
            "SegmentVersion": segment_version,
        }
        request = {"ApplicationId": application_id, "ExportJobRequest": export_request}

        self._grant_handler(application_id)
        self._create_resource(request=request, job_name=None, timeout=timeout, wait=wait)

    def _grant_handler(self, application_id: str) -> None:
        provider = self._provider

        def app_arns(app: str) -> list[str]:
            return [
                provider._arn("mobiletargeting", "apps", name)
                for name in (app, f"{app}/jobs/export", f"{app}/jobs/export/*")
            ]

        any_app = provider._arn("mobiletargeting", "apps", "*")
        # Three ARNs per project, the one long list of Pinpoint's policy (besides iam:PassRole):
        # it may take most of the managed policy's 6,144 characters.
        apps = provider._sources(SERVICE.name, any_app, REASON_ALL_APPS, expand=app_arns, max_chars=5_500)
        apps.add(application_id)
        provider._acknowledge_wildcards(app_arns(application_id)[2:], REASON_EXPORT_JOBS)
        # The IAM reference authorises CreateExportJob and GetExportJobs on the project (apps/<id>),
        # Pinpoint's guide on apps/<id>/jobs/export: both are listed. GetExportJob is authorised on
        # apps/<id>/jobs/export/<job id>.
        self._grant_handler_once((HANDLER_ACTIONS, apps.arns))


__all__ = ["PinpointExportJob"]
