"""Amazon Forecast export (CreateForecastExportJob).

Amazon Forecast is closed to new customers since July 2024; the construct says so at synth (an
info annotation) with AWS's guidance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import _defaults
from ._job import UNICODE_TAGS, ExportJobBase, PathRule, RoleRule
from ._memo import is_unresolved, role_arn_of
from ._nag import REASON_JOB_PREFIX
from ._validation import Problems, Text, typed_props
from .destination import ExportDestination
from .services import FORECAST as SERVICE

FORMATS = ("CSV", "PARQUET")

# The API reference (CreateForecastExportJob) and botocore's forecast model (2018-06-26).
MAX_ARN = 256
#: ForecastArn, as the API reference states it ...
FORECAST_ARN_CHARS = r"^[a-zA-Z0-9\-\_\.\/\:]+$"
#: ... and as botocore's model (shape ``Arn``) states it.
FORECAST_ARN_PATTERN = r"arn:([a-z\d-]+):forecast:.*:.*:.+"
#: What the construct itself needs: the forecast's name, for the export job's ARN.
FORECAST_RESOURCE_PATTERN = r"arn:[^:]+:forecast:[^:]*:[^:]*:forecast/[a-zA-Z][a-zA-Z0-9_]*"
MAX_JOB_NAME = 63
JOB_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]*"
#: botocore's model gives ``S3Config.RoleArn`` its generic ``Arn`` shape (max 256, pattern
#: ``arn:([a-z\d-]+):forecast:.*:.*:.+``), which no IAM role matches: the length is checked as
#: the model says, the pattern is that of an IAM role in any partition.
ROLE_ARN_PATTERN = r"arn:([a-z\d-]+):iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+"
ROLE = RoleRule(ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/ForecastExport", MAX_ARN)
#: botocore's ``TagKey``/``TagValue`` pattern. The API takes up to 200 ``Tags`` items, but at most
#: 50 user tags per resource; only ``aws:`` keys (refused here) do not count, so 50 is the binding
#: limit.
TAGS = UNICODE_TAGS
TAG_PATTERN = TAGS.pattern
# S3Config.Path and S3Config.KMSKeyArn (botocore's model): the key's pattern admits keys of the
# aws partition only.
S3_PATH_PATTERN = r"^s3://[a-z0-9].+$"
MAX_S3_PATH = 4096
KMS_KEY_ARN_PATTERN = r"arn:aws:kms:.*:key/.*"
PATH = PathRule(
    Text.of(
        S3_PATH_PATTERN,
        "an s3:// path whose bucket name starts with a lowercase letter or a digit (Forecast's rule)",
        "s3://my-exports/forecast/demand/",
        min_len=7,
        max_len=MAX_S3_PATH,
    ),
    key=Text.of(
        KMS_KEY_ARN_PATTERN,
        "a KMS key ARN of the aws partition",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        max_len=MAX_ARN,
    ),
    key_partition="aws",
    key_member="KMSKeyArn",
)
#: A valid ``forecast_arn``, for the messages.
EXAMPLE_FORECAST_ARN = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand"
#: An ARN whose other fields are tokens must still end in a forecast's name where it is known.
FORECAST_RESOURCE = (r"forecast/[a-zA-Z][a-zA-Z0-9_]*", "forecast/<name> (a letter, then letters, digits and '_')")
FORECAST_ARN = Text(
    0,
    MAX_ARN,
    (
        (FORECAST_ARN_CHARS, "an ARN of letters, digits and - _ . / :"),
        (FORECAST_ARN_PATTERN, "a Forecast ARN"),
        (
            FORECAST_RESOURCE_PATTERN,
            "a forecast's ARN, ending in forecast/<name> (a letter, then letters, digits and '_')",
        ),
    ),
    EXAMPLE_FORECAST_ARN,
)
JOB_NAME = Text.of(
    JOB_NAME_PATTERN,
    "a name of a letter, then letters, digits and '_'",
    "demand_export_1",
    min_len=1,
    max_len=MAX_JOB_NAME,
)

#: On the export jobs (IAM resource type ``forecast-export-job``).
HANDLER_JOB_ACTIONS = [
    "forecast:DescribeForecastExportJob",
    "forecast:StopResource",
    "forecast:DeleteForecastExportJob",
    "forecast:TagResource",
]
#: CreateForecastExportJob is authorised on the forecast it exports (resource type ``forecast``)
#: only; the job's ARN is not part of that check.
HANDLER_FORECAST_ACTIONS = ["forecast:CreateForecastExportJob"]

REASON_JOB_ANY_FORECAST = (
    "A Forecast export job's ARN holds its forecast's name and its own. This stack's forecasts are more than "
    "the policy can list within IAM's size limits, or known only at deploy time, so the forecast part is a "
    "wildcard; the job part is still a name this stack gave (its own prefix, or the user's job_name)."
)
REASON_FORECAST_WILDCARD = (
    "CreateForecastExportJob is authorised on the forecast it exports. This stack's forecasts are more than "
    "the policy can list within IAM's size limits, so the statement covers the forecasts of this account "
    "and Region."
)


class ForecastExportJob(ExportJobBase):
    """Exports an Amazon Forecast forecast to S3 and waits for the export to finish.

    Create starts a forecast export job and the stack waits until it is ``ACTIVE``; a
    ``CREATE_FAILED`` or ``CREATE_STOPPED`` job fails the resource with Forecast's ``Message``.
    Changing any prop but ``timeout`` starts a new job (the old one is then deleted as below).
    When the timeout runs out, the handler stops the job (StopResource) and fails the resource.
    Delete stops a running job, waits until it is ``CREATE_STOPPED``, then deletes the job's
    record (DeleteForecastExportJob) so its name can be used again, and waits until it is gone;
    a record Forecast fails to delete (``DELETE_FAILED``) is left in place with a warning in the
    handler's log. The exported files in S3 are never deleted.

    Amazon Forecast is closed to new customers since July 2024 (the construct adds an info
    annotation with AWS's guidance: Amazon SageMaker Canvas).

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        forecast_arn: the forecast to export (``arn:<partition>:forecast:<region>:<account>:forecast/<name>``,
            at most 256 characters of ``[a-zA-Z0-9-_./:]``), of the stack's account and Region
            where the stack's are known.
        destination: where the output goes. Its bucket must allow access from outside a VPC
            (Forecast cannot use S3 VPC endpoints).
        prefix: the props every export job takes (``ExportJobBase``).
        job_name: the job's name (1-63, ``[a-zA-Z][a-zA-Z0-9_]*``). Default: derived from the
            stack id, the construct's logical id and a hash of the props, so a retried create
            adopts its job and a changed one starts a new job. Unique among the stack's jobs
            exporting the same forecast.
        format: ``"CSV"`` or ``"PARQUET"``. Default: none sent, so Forecast's own default (CSV).
        role: the role Forecast assumes to write (an IAM role of this account, at most 256
            characters). Default: a least-privilege role shared by this stack's Forecast exports
            into ``destination``.
        tags: tags for the job (at most 50; key 1-128, value 0-256 characters of letters, digits,
            spaces and ``_.:/=+-@``; no ``aws:`` keys). Default: none.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        forecast_arn: str,
        destination: ExportDestination,
        prefix: str | None = None,
        job_name: str | None = None,
        format: str | None = None,
        role: iam.IRole | None = None,
        tags: Mapping[str, str] | None = None,
        timeout: Duration = _defaults.DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        self._check_source(problems, "forecast_arn", forecast_arn, FORECAST_ARN, "a forecast", FORECAST_RESOURCE)
        # Export job names are per forecast (the job's ARN holds both names).
        self._check_job_name(problems, job_name, JOB_NAME, key=forecast_arn, scope=" of this forecast")
        problems.one_of("format", format, FORMATS)
        self._check_tags(problems, tags, TAGS)
        self._check_role(problems, role, ROLE)
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        # S3Config.Path where the bucket's name is known, else the prefix with room for the longest
        # bucket name; S3Config.KMSKeyArn where the key's ARN is known.
        path = self._check_path(problems, destination, PATH)
        self._accept(problems, destination, job_name, key=forecast_arn)

        self._write_into(destination, role=role, source_arn=self._provider._arn("forecast", "*"))

        s3_config = {
            "Path": path,
            "RoleArn": role_arn_of(self.role),
            "KMSKeyArn": self._key_arn,
        }
        request: dict[str, Any] = {
            "ForecastArn": forecast_arn,
            "Destination": {"S3Config": s3_config},
            "Format": format,
            "Tags": TAGS.request(tags),
        }

        self._grant_handler(forecast_arn, job_name)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    # -- grants -----------------------------------------------------------------------------

    def _grant_handler(self, forecast_arn: str, job_name: str | None) -> None:
        """Create on the listed forecasts; describe, stop, delete and tag on this stack's jobs:
        ``forecast-export-job/<forecast name>/<job name prefix>_*`` (and the user's job names)."""
        provider = self._provider
        derived = f"{provider.job_name_prefix}_*"

        def job_arn(forecast_name: str, name: str) -> str:
            return provider._arn("forecast", "forecast-export-job", f"{forecast_name}/{name or derived}")

        any_forecast = provider._arn("forecast", "forecast", "*")
        forecasts = provider._sources(SERVICE.name, any_forecast, REASON_FORECAST_WILDCARD)
        forecasts.add(forecast_arn)
        # Derived names start with this stack's own prefix, whatever the forecast: one entry
        # (forecast-export-job/*/<prefix>_*) covers them all, ~2 KB less per further forecast.
        plain = not is_unresolved(forecast_arn) and job_name is not None
        jobs = provider._jobs(SERVICE.name, job_arn, REASON_JOB_PREFIX, REASON_JOB_ANY_FORECAST)
        jobs.add(forecast_arn.partition(":forecast/")[2] if plain else "*", job_name or "")

        self._grant_handler_once((HANDLER_JOB_ACTIONS, jobs.arns), (HANDLER_FORECAST_ACTIONS, forecasts.arns))


__all__ = ["ForecastExportJob"]
