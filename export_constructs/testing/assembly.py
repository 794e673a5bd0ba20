"""Reads what the simulation needs from a cloud assembly: the templates, the export-job custom
resources, the Provider framework behind each, its user functions and their code assets.

Everything comes from the synthesized files (template, asset manifest), never from the
library's Python objects: a simulation of ``cdk.out`` sees what CloudFormation would.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..handler import consts

#: Environment variables the CDK Provider framework's functions carry (custom-resources
#: provider-framework/runtime/consts.js).
USER_ON_EVENT_ENV = "USER_ON_EVENT_FUNCTION_ARN"
USER_IS_COMPLETE_ENV = "USER_IS_COMPLETE_FUNCTION_ARN"
WAITER_ENV = "WAITER_STATE_MACHINE_ARN"
EXPORT_JOB_TYPE = f"Custom::{consts.RESOURCE_TYPE_PREFIX}"


@dataclass(frozen=True)
class UserFunction:
    """A Lambda function the framework invokes: its handler string and unpacked code."""

    logical_id: str
    handler: str
    asset_dir: Path
    environment: Mapping[str, Any]


@dataclass(frozen=True)
class ProviderFramework:
    """The framework's onEvent function and the waiter that polls isComplete."""

    logical_id: str
    on_event: UserFunction
    is_complete: UserFunction | None
    interval_seconds: int
    max_attempts: int


@dataclass(frozen=True)
class JobResource:
    """One export-job custom resource in a template."""

    logical_id: str
    resource_type: str
    properties: Mapping[str, Any]
    provider: ProviderFramework
    path: str

    @property
    def service(self) -> str:
        return self.resource_type.removeprefix(EXPORT_JOB_TYPE)


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


@dataclass(frozen=True)
class StackTemplate:
    name: str
    template: Mapping[str, Any]
    assets: Mapping[str, Path]
    """S3 object key of each file asset -> its folder in the assembly."""
    warnings: tuple[str, ...] = ()
    """The synth warnings of the stack's constructs (``aws:cdk:warning`` metadata)."""
    environment: str = ""
    """The stack's ``aws://<account>/<region>`` (the manifest's ``environment``); an
    environment-agnostic stack has ``unknown-account`` and ``unknown-region`` there."""

    @property
    def account(self) -> str | None:
        """The stack's account, or None if the stack is environment-agnostic."""
        return _known(self.environment, 0, "unknown-account")

    @property
    def region(self) -> str | None:
        """The stack's Region, or None if the stack is environment-agnostic."""
        return _known(self.environment, 1, "unknown-region")

    @property
    def resources(self) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.template.get("Resources", {})
        return resources

    @property
    def parameter_defaults(self) -> dict[str, str]:
        """Each template parameter's ``Default``: the simulation deploys without overrides."""
        parameters = self.template.get("Parameters", {})
        return {name: str(p["Default"]) for name, p in parameters.items() if "Default" in p}

    def services(self) -> list[str]:
        """The services of the template's export jobs, one entry per job (nothing resolved)."""
        return [
            str(r["Type"]).removeprefix(EXPORT_JOB_TYPE)
            for r in self.resources.values()
            if str(r.get("Type", "")).startswith(EXPORT_JOB_TYPE)
        ]

    def jobs(self, resolver: Resolver) -> list[JobResource]:
        found = []
        for logical_id, resource in self.resources.items():
            if not str(resource.get("Type", "")).startswith(EXPORT_JOB_TYPE):
                continue
            properties = resource.get("Properties", {})
            found.append(
                JobResource(
                    logical_id=logical_id,
                    resource_type=resource["Type"],
                    properties=properties,
                    provider=self._framework(_get_att_target(properties.get("ServiceToken")), resolver),
                    path=_display_path(resource, logical_id),
                )
            )
        return found

    def _framework(self, logical_id: str, resolver: Resolver) -> ProviderFramework:
        function = self.resources.get(logical_id, {})
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if USER_ON_EVENT_ENV not in variables:
            raise ValueError(f"{logical_id} is not a CDK Provider framework onEvent function")
        interval, attempts = 0, 0
        if WAITER_ENV in variables:
            definition = self.definition(_ref_target(variables[WAITER_ENV]), resolver)
            for state in definition["States"].values():
                for retry in state.get("Retry", []):
                    interval, attempts = int(retry["IntervalSeconds"]), int(retry["MaxAttempts"])
        is_complete = variables.get(USER_IS_COMPLETE_ENV)
        return ProviderFramework(
            logical_id=logical_id,
            on_event=self.function(_get_att_target(variables[USER_ON_EVENT_ENV])),
            is_complete=self.function(_get_att_target(is_complete)) if is_complete else None,
            interval_seconds=interval,
            max_attempts=attempts,
        )

    def definition(self, logical_id: str, resolver: Resolver) -> Mapping[str, Any]:
        """The state machine ``logical_id``'s definition, resolved and parsed."""
        definition: Mapping[str, Any] = json.loads(
            resolver.resolve(self.resources[logical_id]["Properties"]["DefinitionString"])
        )
        return definition

    def function(self, logical_id: str) -> UserFunction:
        properties = self.resources[logical_id]["Properties"]
        key = properties.get("Code", {}).get("S3Key")
        if key not in self.assets:
            raise ValueError(f"the code of {logical_id} ({key}) is not an asset of this assembly")
        return UserFunction(
            logical_id=logical_id,
            handler=properties["Handler"],
            asset_dir=self.assets[key],
            environment=properties.get("Environment", {}).get("Variables", {}),
        )


def _get_att_target(value: Any) -> str:
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise ValueError(f"expected an Fn::GetAtt of a function's Arn, got {value!r}")


def _ref_target(value: Any) -> str:
    if isinstance(value, Mapping) and "Ref" in value:
        return str(value["Ref"])
    raise ValueError(f"expected a Ref, got {value!r}")


def read_assembly(directory: Path, stack_names: set[str] | None = None) -> list[StackTemplate]:
    """The stacks of a cloud assembly folder (``cdk.out``), with their file assets.

    Raises:
        FileNotFoundError: ``directory`` holds no cloud assembly (no ``manifest.json``).
    """
    manifest_file = directory / "manifest.json"
    if not manifest_file.is_file():
        why = "no manifest.json" if directory.is_dir() else "no such folder"
        raise FileNotFoundError(f"{directory}: no cloud assembly here ({why}); run `cdk synth` first")
    manifest = json.loads(manifest_file.read_text())
    assets: dict[str, Path] = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") == "cdk:asset-manifest":
            files = json.loads((directory / artifact["properties"]["file"]).read_text()).get("files", {})
            for entry in files.values():
                for destination in entry.get("destinations", {}).values():
                    assets[destination["objectKey"]] = directory / entry["source"]["path"]
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        name = artifact.get("displayName", artifact_id)
        if stack_names is not None and artifact_id not in stack_names and name not in stack_names:
            continue
        template = json.loads((directory / artifact["properties"]["templateFile"]).read_text())
        env = str(artifact.get("environment", ""))
        # Metadata sits in the manifest or, since CDK 2.1x, in the file it names.
        metadata = dict(artifact.get("metadata", {}))
        if artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
        warnings = tuple(
            str(entry.get("data", ""))
            for entries in metadata.values()
            for entry in entries
            if entry.get("type") == "aws:cdk:warning"
        )
        stacks.append(
            StackTemplate(name=artifact_id, environment=env, template=template, assets=assets, warnings=warnings)
        )
    return stacks


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


def _display_path(resource: Mapping[str, Any], logical_id: str) -> str:
    """The construct's path (``Stack/UsersExport``), from the resource's ``aws:cdk:path``."""
    return construct_path(str(resource.get("Metadata", {}).get("aws:cdk:path", logical_id)))


def construct_path(path: str) -> str:
    """The path of the construct a resource stands for: ``Stack/UsersExport/Resource`` (an
    export job's resource) and ``.../Resource/Default`` (an L2 resource's) are ``Stack/UsersExport``."""
    for suffix in ("/Resource/Default", "/Default", "/Resource"):
        path = path.removesuffix(suffix)
    return path


#: The account and Region an environment-agnostic stack is simulated in.
DEFAULT_ACCOUNT, DEFAULT_REGION = "123456789012", "us-east-1"


def _known(environment: str, index: int, unknown: str) -> str | None:
    parts = environment.removeprefix("aws://").split("/")
    value = parts[index] if environment.startswith("aws://") and len(parts) == 2 else ""
    return None if value in ("", unknown) else value


def simulated_environment(
    stacks: Iterable[StackTemplate], account: str | None = None, region: str | None = None
) -> tuple[str, str]:
    """The account and Region to simulate ``stacks`` in: ``account`` and ``region`` where given,
    else the stacks' own where concrete, else :data:`DEFAULT_ACCOUNT` and :data:`DEFAULT_REGION`.

    Raises:
        ValueError: a stack's concrete account or Region contradicts ``account``, ``region`` or
            another stack's (one simulation runs in one account and Region).
    """
    chosen: dict[str, tuple[str | None, str]] = {
        "account": (account, f"account={account!r}"),
        "region": (region, f"region={region!r}"),
    }
    for stack in stacks:
        for key, own in (("account", stack.account), ("region", stack.region)):
            value, source = chosen[key]
            if own is None:
                continue
            if value is None:
                chosen[key] = (own, f"stack {stack.name} ({stack.environment})")
            elif own != value:
                raise ValueError(
                    f"stack {stack.name} is deployed to {key} {own} ({stack.environment}), but {source} says "
                    f"{value}: a stack is simulated in its own account and Region (leave {key} out, or simulate "
                    "stacks of different environments one at a time)"
                )
    return chosen["account"][0] or DEFAULT_ACCOUNT, chosen["region"][0] or DEFAULT_REGION
