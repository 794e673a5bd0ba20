"""Resolves what a template leaves to deploy time - ``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::Sub``, ``Fn::Select``, ``Fn::Split`` and the pseudo parameters - with plausible values, as
CloudFormation would before it hands a custom resource its properties."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Pseudo:
    """The deploy-time values the simulation makes up: account, Region, stack id."""

    stack_name: str
    account: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    stack_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def stack_id(self) -> str:
        where = f"{self.partition}:cloudformation:{self.region}:{self.account}"
        return f"arn:{where}:stack/{self.stack_name}/{self.stack_uuid}"


class Resolver:
    """Resolves the intrinsic functions CDK writes (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
    ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``) with plausible deploy-time values, and turns
    every scalar into a string, as CloudFormation does for custom-resource properties."""

    def __init__(
        self, template: Mapping[str, Any], pseudo: Pseudo, handle_url: Callable[[str], str] | None = None
    ) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        #: A parameter's ``Ref`` is its ``Default``: the simulation deploys without overrides.
        self._parameters: Mapping[str, Any] = template.get("Parameters", {})
        self.pseudo = pseudo
        self._handle_url = handle_url
        #: What created custom resources returned: physical id (their ``Ref``) and ``Data``
        #: (their ``Fn::GetAtt``), so later resources see the values CloudFormation would.
        self.created: dict[str, tuple[str, Mapping[str, Any]]] = {}

    def resolve(self, node: Any) -> Any:
        if isinstance(node, Mapping):
            if len(node) == 1:
                ((key, arg),) = node.items()
                if key == "Ref":
                    return self._list_parameter(str(arg)) or self.ref(str(arg))
                if key == "Fn::GetAtt":
                    target, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                    return self.get_att(str(target), str(attribute))
                if key == "Fn::Join":
                    return str(arg[0]).join(str(self.resolve(part)) for part in self.resolve(arg[1]))
                if key == "Fn::Select":
                    return self.resolve(arg[1])[int(self.resolve(arg[0]))]
                if key == "Fn::Split":
                    return str(self.resolve(arg[1])).split(str(arg[0]))
                if key == "Fn::Sub":
                    return self._sub(arg)
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node

    def _list_parameter(self, name: str) -> list[str] | None:
        """A list parameter's value: CloudFormation resolves its ``Ref`` to the list of its
        comma-separated values (CommaDelimitedList and ``List<...>`` types,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html)."""
        parameter = self._parameters.get(name)
        kind = str(parameter.get("Type", "")) if parameter is not None else ""
        if (
            parameter is None
            or "Default" not in parameter
            or not (kind == "CommaDelimitedList" or kind.startswith("List<"))
        ):
            return None
        return str(parameter["Default"]).split(",")

    def ref(self, name: str) -> str:
        p = self.pseudo
        pseudo = {
            "AWS::AccountId": p.account,
            "AWS::Region": p.region,
            "AWS::Partition": p.partition,
            "AWS::URLSuffix": p.url_suffix,
            "AWS::StackName": p.stack_name,
            "AWS::StackId": p.stack_id,
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.created:
            return self.created[name][0]
        parameter = self._parameters.get(name)
        if parameter is not None:
            if "Default" not in parameter:
                raise ValueError(f"Ref to parameter {name}, which has no Default to simulate with")
            return str(parameter["Default"])
        resource = self._resources.get(name)
        if resource is None:
            raise ValueError(f"Ref to {name}, which is neither a resource nor a pseudo parameter")
        kind = resource["Type"]
        if kind == "AWS::KMS::Key":
            return str(uuid.UUID(hashlib.sha256(name.encode()).hexdigest()[:32]))
        if kind == "AWS::CloudFormation::WaitConditionHandle" and self._handle_url is not None:
            return self._handle_url(name)
        if kind in ("AWS::StepFunctions::StateMachine",):
            return self._arn("states", f"stateMachine:{self._physical_name(name)}")
        if kind == "AWS::S3::Bucket" and "BucketName" in resource.get("Properties", {}):
            # A bucket named in its template has that name (its Ref,
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html):
            # how another account's stack names the archive bucket it writes into.
            return str(self.resolve(resource["Properties"]["BucketName"]))
        return self._physical_name(name, lower=kind == "AWS::S3::Bucket")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self._resources.get(name)
        if resource is None:
            raise ValueError(f"Fn::GetAtt of {name}, which is not a resource")
        kind = resource["Type"]
        if name in self.created:
            data = self.created[name][1]
            if attribute not in data:
                raise ValueError(f"Fn::GetAtt {name}.{attribute}: the resource returned no such attribute")
            return str(data[attribute])
        if attribute != "Arn":
            return f"{self._physical_name(name)}-{attribute}"
        if kind == "AWS::IAM::Role":
            path = self.resolve(resource.get("Properties", {}).get("Path", "/"))
            return f"arn:{self.pseudo.partition}:iam::{self.pseudo.account}:role{path}{self._physical_name(name)}"
        if kind == "AWS::S3::Bucket":
            return f"arn:{self.pseudo.partition}:s3:::{self.ref(name)}"
        if kind == "AWS::KMS::Key":
            return self._arn("kms", f"key/{self.ref(name)}")
        if kind == "AWS::Lambda::Function":
            return self._arn("lambda", f"function:{self._physical_name(name)}")
        if kind == "AWS::Logs::LogGroup":
            return self._arn("logs", f"log-group:{self._physical_name(name)}:*")
        if kind == "AWS::DynamoDB::Table":
            return self._arn("dynamodb", f"table/{self.ref(name)}")
        if kind == "AWS::Events::Rule":
            # A rule's Arn is arn:...:events:<region>:<account>:rule/<name>; its Ref is its name (on
            # the default bus: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-rule.html).
            return self._arn("events", f"rule/{self.ref(name)}")
        service = kind.split("::")[1].lower()
        return self._arn(service, self._physical_name(name))

    def _arn(self, service: str, resource: str) -> str:
        p = self.pseudo
        return f"arn:{p.partition}:{service}:{p.region}:{p.account}:{resource}"

    def _physical_name(self, logical_id: str, *, lower: bool = False) -> str:
        suffix = hashlib.sha256(f"{self.pseudo.stack_id}/{logical_id}".encode()).hexdigest()[:12]
        if lower:
            stem = f"{self.pseudo.stack_name}-{logical_id}".lower()[: 63 - 13]
            return f"{stem}-{suffix}"
        return f"{self.pseudo.stack_name}-{logical_id}"[: 64 - 13] + f"-{suffix.upper()}"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if "." in name:
                target, attribute = name.split(".", 1)
                return self.get_att(target, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, str(text))


def stringify(node: Any) -> Any:
    """CloudFormation passes custom-resource property scalars as strings."""
    if isinstance(node, Mapping):
        return {k: stringify(v) for k, v in node.items()}
    if isinstance(node, list):
        return [stringify(v) for v in node]
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, int | float):
        return str(node)
    return node
