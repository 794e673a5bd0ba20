"""A small typed view of the events the CDK Provider framework hands the user functions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import consts


@dataclass(frozen=True)
class Arn:
    """The parts of an ARN the engine needs (partition, region, account)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, arn: str) -> Arn:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise ValueError(f"not an ARN: {arn!r}")
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])


@dataclass(frozen=True)
class ResourceEvent:
    """A CloudFormation custom-resource event, as the Provider framework passes it on.

    ``is_complete`` receives the same event merged with what ``on_event`` returned
    (notably ``PhysicalResourceId``).
    """

    request_type: str
    resource_type: str
    logical_id: str
    stack_id: str
    request_id: str
    physical_id: str | None
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any] | None

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> ResourceEvent:
        try:
            return cls(
                request_type=event["RequestType"],
                resource_type=event["ResourceType"],
                logical_id=event["LogicalResourceId"],
                stack_id=event["StackId"],
                request_id=event["RequestId"],
                physical_id=event.get("PhysicalResourceId"),
                properties=event.get("ResourceProperties") or {},
                old_properties=event.get("OldResourceProperties"),
            )
        except KeyError as missing:
            raise ValueError(f"malformed custom-resource event: no {missing}") from None

    @property
    def stack_arn(self) -> Arn:
        return Arn.parse(self.stack_id)

    @property
    def job_name_prefix(self) -> str:
        """``ex`` + the first 8 hex digits of the stack id's UUID (``.../stack/<name>/<uuid>``).

        The same value the constructs scope the handler's IAM policy with
        (``ExportJobProvider.job_name_prefix``), derived here so no template has to repeat it
        for every job.
        """
        parts = self.stack_id.split("/")
        uuid = parts[2] if len(parts) > 2 else ""
        return consts.JOB_NAME_PREFIX_HEAD + uuid.split("-")[0]

    @property
    def adapter_name(self) -> str:
        """``Custom::ExportJob-Personalize`` -> ``personalize``."""
        _, _, type_name = self.resource_type.partition("::")
        if not type_name.startswith(consts.RESOURCE_TYPE_PREFIX):
            raise ValueError(f"resource type {self.resource_type!r} is not an export job")
        return type_name[len(consts.RESOURCE_TYPE_PREFIX) :].lower()

    @property
    def request(self) -> Mapping[str, Any]:
        request = self.properties.get(consts.PROP_REQUEST)
        if not isinstance(request, Mapping):
            raise ValueError(f"resource property {consts.PROP_REQUEST} is missing or not an object")
        return request

    @property
    def mode(self) -> str:
        mode = str(self.properties.get(consts.PROP_MODE) or consts.MODE_WAIT)
        if mode not in (consts.MODE_WAIT, consts.MODE_START, consts.MODE_SIGNAL, consts.MODE_REPORT):
            raise ValueError(f"resource property {consts.PROP_MODE} is {mode!r}, not a wait mode")
        return mode

    @property
    def timeout_seconds(self) -> int:
        return int(self.properties[consts.PROP_TIMEOUT_SECONDS])

    def digest(self, properties: Mapping[str, Any] | None = None) -> str:
        """A stable hash of what defines the job: the stack, the resource and its request.

        The timeout is left out on purpose: changing only the timeout keeps the job.
        """
        props = self.properties if properties is None else properties
        material = {
            "stack": self.stack_id,
            "logical": self.logical_id,
            "name": props.get(consts.PROP_JOB_NAME),
            "request": props.get(consts.PROP_REQUEST),
        }
        blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[: consts.DIGEST_LENGTH]
