"""Reads what the simulation needs from a cloud assembly: the templates, the export-job custom
resources, the Provider framework behind each, its user functions and their code assets.

Everything comes from the synthesized files (template, asset manifest), never from the
library's Python objects: a simulation of ``cdk.out`` sees what CloudFormation would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..handler import consts
from .resolver import Resolver

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
