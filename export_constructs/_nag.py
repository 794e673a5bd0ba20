"""Every cdk-nag finding this library acknowledges, each with its reason, in one place.

cdk-nag 3 reads acknowledgements from construct metadata
(``Validations.of(c).acknowledge(Acknowledgment(id=..., reason=...))``); finding ids embed the
rendered resource (``AwsSolutions-IAM5[Resource::<Bucket1234.Arn>/prefix/*]``), so ids are
built here from the same values the policies hold. Acknowledgements are applied only to
resources the library itself creates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment
from constructs import IConstruct

from ._memo import is_unresolved, stack_of, validations_of

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

# Reasons, stated once.
REASON_DEAD_LETTERS = (
    "This queue is itself a dead-letter queue (of the EventBridge rules' targets): what lands in it is kept "
    "14 days for an operator, not processed, so it has no dead-letter queue of its own."
)
REASON_PREFIX_WILDCARD = (
    "The service writes objects whose names it chooses, so the grant covers every key under "
    "the export prefix and no other."
)
REASON_JOB_PREFIX = (
    "Job names are derived at deploy time and start with this stack's own prefix (from the "
    "stack id): the wildcard covers this stack's export jobs only."
)
REASON_ROLE_PATH = (
    "iam:PassRole is limited to the roles the library creates under this stack's own path, and "
    "only to the export service (iam:PassedToService)."
)
REASON_TRACKER_EXECUTIONS = (
    "The handler stops the long-wait tracker's executions when their job's resource is deleted; "
    "execution names are made at deploy time, so the grant covers the executions of this stack's "
    "tracker state machine only."
)
REASON_TRACKER_VERSIONS = (
    "Added by Step Functions' LambdaInvoke task for the tracker's own function: the state machine may "
    "invoke any version of that one function."
)
REASON_XRAY = "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions."
REASON_FRAMEWORK_VERSIONS = (
    "Added by the aws-cdk custom-resource Provider framework: it may invoke any version of the "
    "provider's own functions."
)
REASON_LOG_DELIVERY = (
    "Step Functions log delivery (logs:CreateLogDelivery and friends) supports no resource-level "
    "permissions; CDK's Provider framework grants it for the waiter state machine's logs."
)
REASON_INLINE = (
    "Each inline policy belongs to one role the library creates, is scoped to its resources and is "
    "deleted with the role; managed policies would add resources per job without narrowing anything."
)
REASON_DLQ = (
    "These functions are invoked synchronously (by the Provider framework and its Step Functions "
    "waiter); a dead-letter queue only applies to asynchronous invocations. Failures are reported "
    "to CloudFormation."
)
REASON_VPC = (
    "The functions only call public AWS APIs (the export services, Step Functions, Lambda, "
    "CloudFormation's response URL); a VPC would need NAT or endpoints for each and adds no control."
)
REASON_REPLICATION = (
    "Replication needs a second bucket in another Region, a choice the library cannot make for the "
    "user; pass your own replicated bucket as ExportDestination(bucket=...) where required."
)
REASON_LOG_BUCKET_KMS = "S3 server access logs can only be delivered to buckets encrypted with SSE-S3, not SSE-KMS."
REASON_LOG_BUCKET_LOGS = "This is the server access log bucket; logging it into itself would loop."


def render(scope: IConstruct, value: Any) -> str:
    """A value as cdk-nag renders it in finding ids: ``Ref`` -> ``<Id>``, ``Fn::GetAtt`` ->
    ``<Id.Attr>``, ``Fn::Join`` joined, other intrinsics as compact JSON."""
    return _render(stack_of(scope).resolve(value))


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return str(arg[0]).join(_render(part) for part in arg[1])
    return json.dumps(node, separators=(",", ":"))


def acknowledge(scope: IConstruct, rule_ids: Iterable[str], reason: str) -> None:
    """Acknowledge ``rule_ids`` on ``scope``, all in one call (each call is a jsii round trip)."""
    acknowledgments = [Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids]
    if acknowledgments:
        validations_of(scope).acknowledge(*acknowledgments)


def acknowledge_iam5(scope: IConstruct, resources: Iterable[Any], reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for each wildcard resource on ``scope``'s policies."""
    acknowledge(scope, _iam5_findings(scope, resources), reason)


def _iam5_findings(scope: IConstruct, resources: Iterable[Any]) -> list[str]:
    """``AwsSolutions-IAM5[Resource::<rendered>]`` for each wildcard resource; the tokens among
    them are resolved in one call."""
    resources = list(resources)
    tokens = [r for r in resources if not isinstance(r, str) or is_unresolved(r)]
    resolved = dict(zip(map(id, tokens), stack_of(scope).resolve(tokens), strict=True)) if tokens else {}
    rendered = (_render(resolved[id(r)]) if id(r) in resolved else r for r in resources)
    return [f"AwsSolutions-IAM5[Resource::{r}]" for r in rendered if "*" in r]


COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


def acknowledge_inline_policy(scope: IConstruct) -> None:
    acknowledge(scope, (f"{p}-IAMNoInlinePolicy" for p in COMPLIANCE_PACKS), REASON_INLINE)


def acknowledge_log_bucket(bucket: s3.IBucket) -> None:
    acknowledge(bucket, ["AwsSolutions-S1"], REASON_LOG_BUCKET_LOGS)
    acknowledge(
        bucket,
        (f"{p}-S3DefaultEncryptionKMS" for p in COMPLIANCE_PACKS),
        REASON_LOG_BUCKET_KMS,
    )
    acknowledge_replication(bucket)


def acknowledge_replication(bucket: s3.IBucket) -> None:
    acknowledge(
        bucket,
        (f"{p}-S3BucketReplicationEnabled" for p in COMPLIANCE_PACKS),
        REASON_REPLICATION,
    )


def acknowledge_provider(provider: IConstruct, function_arns: Iterable[str]) -> None:
    """The provider's functions, roles and the CDK framework inside it; ``function_arns``: the
    functions whose versions the framework's roles may invoke."""
    acknowledge(
        provider,
        ["AwsSolutions-IAM5[Resource::*]"],
        REASON_XRAY + " " + REASON_LOG_DELIVERY,
    )
    acknowledge(
        provider,
        (f"{p}-LambdaDLQ" for p in (*COMPLIANCE_PACKS[:2], "Serverless")),
        REASON_DLQ,
    )
    acknowledge(provider, (f"{p}-LambdaInsideVPC" for p in COMPLIANCE_PACKS), REASON_VPC)
    acknowledge_inline_policy(provider)
    acknowledge_iam5(provider, (f"{arn}:*" for arn in function_arns), REASON_FRAMEWORK_VERSIONS)
