"""The hardened export bucket (and its key and log bucket) that ``ExportDestination`` and
``ExportArchive`` both create."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._nag import acknowledge_log_bucket, acknowledge_replication
from ._validation import Problems


def new_hardened_bucket(
    scope: Construct,
    *,
    removal_policy: RemovalPolicy,
    server_access_logs_bucket: s3.IBucket | None,
    key_description: str,
    encryption_key: kms.IKey | None = None,
    bucket_name: str | None = None,
) -> tuple[kms.IKey, s3.Bucket]:
    """The key (``Key``, unless ``encryption_key`` is given), the log bucket (``AccessLogs``,
    unless ``server_access_logs_bucket`` is given) and the bucket (``Resource``) of a new export
    bucket, as children of ``scope``: SSE-KMS with the key (rotation on), TLS-only, no public
    access, object ownership enforced, versioned, access logs to the log bucket, ``removal_policy``
    on all three. ``scope`` must have called :func:`prepare_bucket_scope` before making any child."""
    key = encryption_key or kms.Key(
        scope,
        "Key",
        # KMS takes a description of up to 8,192 characters (CreateKey's API reference).
        description=key_description[:8192],
        enable_key_rotation=True,
        removal_policy=removal_policy,
    )
    if server_access_logs_bucket is None:
        log_bucket = s3.Bucket(
            scope,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=removal_policy,
        )
        acknowledge_log_bucket(log_bucket)
        server_access_logs_bucket = log_bucket
    bucket = s3.Bucket(
        scope,
        "Resource",
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix="export-bucket/",
        removal_policy=removal_policy,
    )
    acknowledge_replication(bucket)
    return key, bucket


def prepare_bucket_scope(scope: Construct, removal_policy: RemovalPolicy) -> None:
    """Before ``scope`` makes any child: log delivery by bucket policy (not ACLs) whatever the app's
    feature flags say (context must be set before any child exists), and refuse
    ``RemovalPolicy.SNAPSHOT``, which no bucket or key takes."""
    scope.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
    if removal_policy is RemovalPolicy.SNAPSHOT:
        # DeletionPolicy Snapshot applies to resources with snapshots (volumes, databases...),
        # not to AWS::S3::Bucket or AWS::KMS::Key (CloudFormation's DeletionPolicy attribute:
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
        problems = Problems(scope)
        problems.add(
            "removal_policy",
            "must not be RemovalPolicy.SNAPSHOT: CloudFormation refuses a Snapshot deletion policy on a bucket "
            "and a KMS key (RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY)",
        )
        problems.raise_if_any()


__all__ = ["new_hardened_bucket", "prepare_bucket_scope"]
