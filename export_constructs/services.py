"""What each export service is and does with the destination, described once.

A :class:`ServiceAccess` value per service is read by everything that depends on it: the
service's construct (its name, its quota), the destination's grants (the role's, the bucket
policy's and the key policy's statements), the handler's ``iam:PassRole`` condition, and the
offline simulation (the fake service authorizes exactly these accesses against the synthesized
policies, and enforces the quota). Adding a service with a new access shape is a new value here,
not an edit of the shared modules.

No CDK import: the simulation reads these values without building anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: What writing SSE-KMS objects needs of the key: kms:GenerateDataKey, and kms:Decrypt for
#: multipart uploads (S3 user guide, "Using server-side encryption with AWS KMS keys").
KMS_WRITE_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey")
#: What every service role does on its objects and bucket (besides ``role_object_actions``).
S3_WRITE_ACTIONS = ("s3:PutObject",)
S3_LIST_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")


@dataclass(frozen=True)
class Notice:
    """What every construct of a service says at synth about the service's state (closed to new
    customers, end of support): an annotation of ``id`` (users acknowledge it by that id) with
    ``text`` wrapped for a terminal; a warning, or an info where ``info``."""

    id: str
    text: str
    info: bool = False


@dataclass(frozen=True)
class ServiceAccess:
    """One export service: its name, the principal that writes the output, and what it does.

    With :attr:`assumes_role` the service assumes a role (shared per destination, or the user's)
    that may write under the jobs' prefixes (``s3:PutObject`` and :attr:`role_object_actions`),
    list the bucket and use the key (:attr:`role_key_actions`); the service principal itself may
    also be granted in the bucket policy (:attr:`service_object_actions`,
    :attr:`service_bucket_actions`) and the key policy (:attr:`service_key_actions`), always with
    ``aws:SourceAccount`` / ``aws:SourceArn``. Without a role (CloudWatch Logs), only those
    resource-policy statements exist.
    """

    name: str
    """The name users type (``max_concurrent`` keys) and the resource type's suffix
    (``Custom::ExportJob-<name>``); lower-cased, it names the handler's adapter module."""
    title: str
    """The service's name in messages (``RDS``, ``CloudWatch Logs``)."""
    principal: str
    """The service principal that writes (``personalize.amazonaws.com``); ``{region}`` and
    ``{url_suffix}`` stand for the stack's (``logs.{region}.{url_suffix}``)."""
    assumes_role: bool = True
    """Whether the service assumes a role to write (else it writes as itself)."""
    passed_to: tuple[str, ...] = ()
    """``iam:PassedToService`` values the handler may pass the role to. Default: the principal."""
    role_object_actions: tuple[str, ...] = ()
    """What the role does on the objects under the prefixes besides ``s3:PutObject``."""
    role_key_actions: tuple[str, ...] = KMS_WRITE_ACTIONS
    """What the role does with the destination's key."""
    service_object_actions: tuple[str, ...] = ()
    """What the principal itself does on the objects under the prefixes (bucket policy)."""
    service_bucket_actions: tuple[str, ...] = ()
    """What the principal itself does on the bucket (bucket policy)."""
    service_key_actions: tuple[str, ...] = ()
    """What the principal itself does with the key (key policy)."""
    service_object_conditions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Conditions the principal's object statement adds to the confused-deputy ones (CloudWatch
    Logs' ``s3:x-amz-acl`` = ``bucket-owner-full-control``)."""
    same_region_bucket: bool = False
    """Whether the service writes only into a bucket of the Region it runs in (its API takes no
    Region for the bucket): a destination bucket known to be in another Region is refused."""
    archive_name: str = ""
    """How an ``ArchiveSource`` lists the service (``"logs"``, ``"rds"``) where its guide documents
    writing into a bucket (and with a key) of another account; empty: it does not, and a
    destination of another account is refused for its jobs."""
    quota: int | None = None
    """How many export jobs of the service an account may run at once, as documented (None: none
    documented): the default of the provider's ``max_concurrent``, and what the simulation's fake
    enforces."""
    notice: Notice | None = None
    """What the service's constructs say at synth about its state (None: nothing)."""

    @property
    def passed_to_services(self) -> tuple[str, ...]:
        return self.passed_to or (self.principal,)

    @property
    def service_s3_actions(self) -> tuple[str, ...]:
        """The principal's bucket-policy actions, as the statements list them: on the objects,
        then on the bucket."""
        return (*self.service_object_actions, *self.service_bucket_actions)

    @property
    def role_actions(self) -> tuple[str, ...]:
        """Everything the role does on the objects."""
        return (*S3_WRITE_ACTIONS, *self.role_object_actions)

    def principal_in(self, region: str, url_suffix: str) -> str:
        """:attr:`principal` for a Region (and its partition's DNS suffix)."""
        return self.principal.format(region=region, url_suffix=url_suffix)

    def object_context(self) -> dict[str, str]:
        """The request context the principal's object writes carry to meet
        :attr:`service_object_conditions` (``{"s3:x-amz-acl": "bucket-owner-full-control"}``)."""
        return {key: value for values in self.service_object_conditions.values() for key, value in values.items()}


# -- the services ------------------------------------------------------------------------------

# Personalize's developer guide: the role, and for a customer managed key also the key policy,
# allow kms:Decrypt, kms:GenerateDataKey, kms:DescribeKey and kms:ListGrants (the key policy also
# kms:CreateGrant); the bucket policy lets personalize.amazonaws.com put objects and list the bucket
# ("Giving Amazon Personalize access to Amazon S3 resources" and "... to your AWS KMS key").
_PERSONALIZE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants")
PERSONALIZE = ServiceAccess(
    name="Personalize",
    title="Personalize",
    principal="personalize.amazonaws.com",
    role_key_actions=_PERSONALIZE_KEY_ACTIONS,
    service_object_actions=("s3:PutObject",),
    service_bucket_actions=("s3:ListBucket",),
    service_key_actions=(*_PERSONALIZE_KEY_ACTIONS, "kms:CreateGrant"),
)


# Forecast's guide asks the role for s3:Get*, s3:List* and s3:PutObject on the bucket (the
# destination grants s3:PutObject under the prefix and s3:ListBucket/GetBucketLocation on the bucket;
# s3:GetObject is the rest, under the prefix only), and with a KMS key kms:DescribeKey,
# kms:CreateGrant and kms:RetireGrant besides what writing SSE-KMS objects needs
# (https://docs.aws.amazon.com/forecast/latest/dg/aws-forecast-iam-roles.html). Forecast documents
# no bucket-policy or key-policy statement for its principal, and at most 3 export jobs at once.
FORECAST = ServiceAccess(
    name="Forecast",
    title="Forecast",
    principal="forecast.amazonaws.com",
    role_object_actions=("s3:GetObject",),
    role_key_actions=("kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:RetireGrant"),
    quota=3,
    notice=Notice(
        "export-constructs:forecast-closed-to-new-customers",
        "Amazon Forecast is no longer available to new customers (since July 2024); existing customers can "
        "keep using it, so this export works only in an account that already uses Forecast. AWS's guidance for "
        "new time-series forecasting work is Amazon SageMaker Canvas "
        "(https://aws.amazon.com/blogs/machine-learning/transition-your-amazon-forecast-usage-to-amazon-sagemaker-canvas/).",
        info=True,
    ),
)


# The principal Pinpoint's export role trusts (AWS's guide, "IAM role for exporting endpoints"); the
# IAM reference names ``mobiletargeting`` for ``iam:PassedToService``: both are allowed. Writing into
# an SSE-KMS bucket needs kms:GenerateDataKey; S3 multipart uploads into it also need kms:Decrypt,
# and Pinpoint does not document how it uploads. Pinpoint acts only through the role (no key or
# bucket policy for its principal), and documents no quota of concurrent export jobs.
PINPOINT = ServiceAccess(
    name="Pinpoint",
    title="Pinpoint",
    principal="pinpoint.amazonaws.com",
    passed_to=("mobiletargeting.amazonaws.com", "pinpoint.amazonaws.com"),
    role_key_actions=("kms:GenerateDataKey", "kms:Decrypt"),
    notice=Notice(
        "export-constructs:pinpoint-end-of-support",
        "AWS ended support for Amazon Pinpoint on 2026-10-30: its console and its engagement resources "
        "(endpoints, segments, campaigns, journeys and analytics) are no longer accessible, so this endpoint "
        "export job will likely fail at deployment. AWS's guidance: for endpoints, segments and campaigns, "
        "move to Amazon Connect Customer Profiles and Amazon Connect outbound campaigns; for sending SMS, "
        "MMS, voice, push and WhatsApp messages, use AWS End User Messaging (Pinpoint's messaging APIs live "
        "on there unchanged); for event collection and analytics, Amazon Kinesis. "
        "See https://docs.aws.amazon.com/pinpoint/latest/userguide/migrate.html.",
    ),
)


# AWS's guide asks the export role for PutObject, GetObject and AbortMultipartUpload on the bucket
# (the destination grants s3:PutObject, the others are the rest), and the key for writing SSE-KMS
# objects; RoboMaker acts only through the role and documents no quota of concurrent exports.
ROBOMAKER = ServiceAccess(
    name="RoboMaker",
    title="RoboMaker",
    principal="robomaker.amazonaws.com",
    role_object_actions=("s3:GetObject", "s3:AbortMultipartUpload"),
    notice=Notice(
        "export-constructs:robomaker-end-of-support",
        "AWS RoboMaker support ended on 2025-09-10: AWS no longer gives access to the RoboMaker console "
        "or its resources, so this world export job will likely fail at deployment. AWS's guidance is to "
        "run containerized simulations on AWS Batch (multi-container jobs, "
        "https://aws.amazon.com/blogs/hpc/run-simulations-using-multiple-containers-in-a-single-aws-batch-job/) "
        "or on a simulation stack you manage yourself, and to keep its worlds in S3 directly.",
    ),
)


# The RDS user guide ("Setting up access to an Amazon S3 bucket",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.Setup.html):
# - the role trusts export.rds.amazonaws.com, and is passed to it (iam:PassedToService: which value
#   StartExportTask checks is not documented, nor listed in the Service Authorization Reference;
#   RDS's own principal rds.amazonaws.com is allowed as well);
# - it asks for s3:PutObject*, s3:GetObject*, s3:ListBucket, s3:DeleteObject* and
#   s3:GetBucketLocation: the destination grants s3:PutObject under the prefix and s3:ListBucket /
#   s3:GetBucketLocation on the bucket, and the base actions of the other wildcard families come
#   here, under the jobs' prefixes only (the ACL, tagging, version and retention variants are not);
# - "The IAM role used for the snapshot export must have encryption and decryption permissions to use
#   this KMS key" (API reference, KmsKeyId);
# - the bucket must be in the snapshot's Region; up to five concurrent export tasks per account.
RDS = ServiceAccess(
    name="Rds",
    title="RDS",
    principal="export.rds.amazonaws.com",
    passed_to=("export.rds.amazonaws.com", "rds.amazonaws.com"),
    role_object_actions=("s3:GetObject", "s3:DeleteObject"),
    role_key_actions=("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
    same_region_bucket=True,
    archive_name="rds",
    quota=5,
)


# CloudWatch Logs writes as its own principal, the Region's (logs.us-west-2.amazonaws.com, the
# partition's DNS suffix as the provider's own key policy names Logs), without a role. The bucket
# policy it documents for an export bucket lets it s3:GetBucketAcl on the bucket and s3:PutObject
# with s3:x-amz-acl = bucket-owner-full-control; an SSE-KMS bucket's key policy lets it
# kms:GenerateDataKey and kms:Decrypt ("Allow CWL Service Principal usage"). It exports into a bucket
# of its own Region only, one active task per account (quota L-EEC839DF, not adjustable)
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasksConsole.html,
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
CLOUDWATCH_LOGS = ServiceAccess(
    name="CloudWatchLogs",
    title="CloudWatch Logs",
    principal="logs.{region}.{url_suffix}",
    assumes_role=False,
    role_key_actions=(),
    service_object_actions=("s3:PutObject",),
    service_bucket_actions=("s3:GetBucketAcl",),
    service_key_actions=("kms:GenerateDataKey", "kms:Decrypt"),
    service_object_conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
    same_region_bucket=True,
    archive_name="logs",
    quota=1,
)


#: Every service the library exports from, in the README's order.
SERVICES = (PERSONALIZE, FORECAST, PINPOINT, ROBOMAKER, RDS, CLOUDWATCH_LOGS)

__all__ = [
    "CLOUDWATCH_LOGS",
    "FORECAST",
    "PERSONALIZE",
    "PINPOINT",
    "RDS",
    "ROBOMAKER",
    "SERVICES",
    "Notice",
    "ServiceAccess",
]
