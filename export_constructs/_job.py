"""What every export-job construct shares: validation of the common props, the service role,
the custom resource on the stack's provider, and the attributes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from aws_cdk import CustomResource, Duration, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import _defaults
from ._provider import ExportJobProvider
from ._validation import Problems
from .destination import ExportDestination
from .handler import consts

#: S3 keys are at most 1,024 bytes; the export's own file names need room too.
MAX_PREFIX_LENGTH = 512


class ExportJobBase(Construct):
    """Base of the export-job constructs. Subclasses set ``ADAPTER`` (the handler's adapter
    module name) and call :meth:`_create_resource` at the end of their ``__init__``."""

    #: Name of the handler adapter, e.g. ``"Personalize"`` -> ``handler/adapters/personalize.py``.
    ADAPTER: ClassVar[str]

    job_arn: str
    """The job's ARN (``Fn::GetAtt JobArn``)."""
    job_name: str
    """The job's name, given or derived."""
    status: str
    """The job's final status as the service reports it (e.g. ``ACTIVE``)."""
    output_uri: str
    """The ``s3://`` URI the job wrote to."""
    role: iam.IRole
    """The role the service assumes to write the output."""
    destination: ExportDestination
    prefix: str
    """The key prefix in the destination bucket."""

    def _check_common(self, problems: Problems, *, prefix: str | None, timeout: Duration) -> str:
        """Validate ``prefix`` and ``timeout``; return the prefix to use."""
        if not Token.is_unresolved(timeout.to_seconds()):
            seconds = timeout.to_seconds()
            limit = _defaults.MAX_TIMEOUT.to_seconds()
            if seconds > limit or seconds < 60:
                problems.add(
                    "timeout",
                    f"must be between 1 and {int(limit // 60)} minutes, got {timeout.to_human_string()}: "
                    "CloudFormation waits at most one hour for a custom resource, and the handler "
                    "needs the last minutes to stop the job and report",
                )
        if prefix is None:
            return self._default_prefix()
        if not Token.is_unresolved(prefix):
            problems.length("prefix", prefix, max_len=MAX_PREFIX_LENGTH)
            if prefix.startswith("/"):
                problems.add("prefix", f"must not start with '/', got {prefix!r}")
            if prefix and not prefix.endswith("/"):
                problems.add("prefix", f"must end with '/' (it names a folder), got {prefix!r}")
        return prefix

    def _default_prefix(self) -> str:
        path = re.sub(r"[^A-Za-z0-9_./-]", "-", self.node.path)
        return f"{self.ADAPTER.lower()}/{path}/"

    def _service_role(
        self,
        *,
        destination: ExportDestination,
        role: iam.IRole | None,
        service_principal: str,
        source_arn: str,
        share_key: str = "",
    ) -> iam.IRole:
        """The user's role, or the role shared by this service's jobs on this destination.

        It trusts only ``service_principal``, conditioned on ``aws:SourceAccount`` and
        ``aws:SourceArn`` (confused-deputy prevention), and lives under the stack's role path
        so the handler may pass it.
        """
        provider = ExportJobProvider.of(self)
        if role is not None:
            provider.registry(self.ADAPTER).setdefault("roles", []).append(role.role_arn)
            return role
        role_id = f"{self.ADAPTER}Role{share_key}"
        existing = destination.node.try_find_child(role_id)
        if isinstance(existing, iam.Role):
            return existing
        return iam.Role(
            destination,
            role_id,
            assumed_by=iam.ServicePrincipal(service_principal).with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                }
            ),
            path=provider.role_path,
            description=f"Lets {service_principal} write export output into {destination.node.path}",
        )

    def _create_resource(
        self, *, request: Mapping[str, Any], job_name: str | None, timeout: Duration
    ) -> CustomResource:
        provider = ExportJobProvider.of(self)
        properties: dict[str, Any] = {
            consts.PROP_JOB_NAME_PREFIX: provider.job_name_prefix,
            consts.PROP_TIMEOUT_SECONDS: str(int(timeout.to_seconds())),
            consts.PROP_REQUEST: dict(request),
        }
        if job_name is not None:
            properties[consts.PROP_JOB_NAME] = job_name
        resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=f"Custom::{consts.RESOURCE_TYPE_PREFIX}{self.ADAPTER}",
            properties=properties,
        )
        self.job_arn = resource.get_att_string(consts.ATTR_JOB_ARN)
        self.job_name = resource.get_att_string(consts.ATTR_JOB_NAME)
        self.status = resource.get_att_string(consts.ATTR_STATUS)
        self.output_uri = resource.get_att_string(consts.ATTR_OUTPUT_URI)
        return resource
