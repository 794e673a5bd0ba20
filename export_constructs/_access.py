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
    quota: int | None = None
    """How many export jobs of the service an account may run at once, as documented (None: none
    documented): the default of the provider's ``max_concurrent``, and what the simulation's fake
    enforces."""

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
