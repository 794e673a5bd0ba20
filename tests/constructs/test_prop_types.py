"""A prop of the wrong type is refused before anything is built, as jsii refuses one for
aws-cdk-lib's own constructs: one error naming the construct's path and every such prop, a
``TypeError`` and a ``ValueError`` at once (every other bad prop is a ``ValueError``)."""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections import UserList
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from constructs import Construct

import export_constructs
from export_constructs import ArchiveSource, ExportArchive, ExportDestination, PropTypeError

from .test_bad_input import ENV

WORLD = "arn:aws:robomaker:us-east-1:123456789012:world/sim-1/w-1"

#: What each construct needs besides a destination.
REQUIRED: dict[str, dict[str, Any]] = {
    "ExportDestination": {},
    "PersonalizeDatasetExportJob": {"dataset_arn": "arn:aws:personalize:us-east-1:123456789012:dataset/g/INTERACTIONS"},
    "ForecastExportJob": {"forecast_arn": "arn:aws:forecast:us-east-1:123456789012:forecast/f1"},
    "PinpointExportJob": {"application_id": "0123456789abcdef0123456789abcdef"},
    "RoboMakerWorldExportJob": {"worlds": [WORLD]},
    "RdsSnapshotExportJob": {"source_arn": "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db"},
    "CloudWatchLogsExportJob": {"log_group": "/aws/lambda/orders", "window": cdk.Duration.days(1)},
    "CloudWatchLogsExport": {"log_groups": ["/aws/lambda/orders"]},
    "PersonalizeDatasetExport": {"dataset_arns": ["arn:aws:personalize:us-east-1:123456789012:dataset/g/USERS"]},
    "RdsSnapshotExport": {"sources": ["arn:aws:rds:us-east-1:123456789012:db:shop-db"]},
    "ExportJobProvider": {},
    "ExportArchive": {"sources": [ArchiveSource("111122223333", "us-east-1", ("logs",), "archive/")]},
}


def constructs() -> Iterator[type[Construct]]:
    """The package's constructs that take props."""
    for name in export_constructs.__all__:
        cls = getattr(export_constructs, name)
        if inspect.isclass(cls) and issubclass(cls, Construct) and props_of(cls):
            yield cls


def props_of(cls: type) -> list[str]:
    parameters = inspect.signature(vars(cls)["__init__"]).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def wrong_value(hint: Any) -> object:
    """A value of none of the types ``hint`` admits: a number where a string goes, else a string
    (an ARN where a role, a bucket or a list goes; a string for a Duration, a bool or an int)."""
    admits_str = hint is str or str in typing.get_args(hint)
    return 3 if admits_str else "arn:aws:iam::123456789012:role/r"


CASES = [pytest.param(cls, name, id=f"{cls.__name__}.{name}") for cls in constructs() for name in props_of(cls)]


def test_every_construct_with_props_is_covered() -> None:
    assert {cls.__name__ for cls in constructs()} == set(REQUIRED)


@pytest.mark.parametrize(("cls", "prop"), CASES)
def test_a_prop_of_the_wrong_type_is_named_with_the_constructs_path(cls: type, prop: str) -> None:
    stack = cdk.Stack(cdk.App(), "Types", env=ENV)
    kwargs = dict(REQUIRED[cls.__name__])
    if cls not in (ExportDestination, export_constructs.ExportJobProvider, ExportArchive):
        kwargs["destination"] = ExportDestination(stack, "Exports")
    kwargs[prop] = wrong_value(typing.get_type_hints(vars(cls)["__init__"])[prop])
    with pytest.raises(PropTypeError, match=rf"^Types/Job: invalid props:\n  - {prop}: must be .*, got ") as raised:
        cls(stack, "Job", **kwargs)
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, ValueError)
    assert stack.node.try_find_child("Job") is None  # refused before the construct was made


def test_every_problem_is_listed_and_the_common_mistakes_read_plainly() -> None:
    stack = cdk.Stack(cdk.App(), "Types", env=ENV)
    with pytest.raises(PropTypeError) as raised:
        export_constructs.RoboMakerWorldExportJob(
            stack,
            "Job",
            destination=ExportDestination(stack, "Exports"),
            worlds=WORLD,  # one ARN, not a list (a string is a Sequence[str] to mypy)
            role="arn:aws:iam::123456789012:role/r",  # type: ignore[arg-type]  # an ARN, not a role
            tags={"team": 1},  # type: ignore[dict-item]
            timeout=300,  # type: ignore[arg-type]
            wait=1,  # type: ignore[arg-type]
        )
    assert str(raised.value).splitlines() == [
        "Types/Job: invalid props:",
        f"  - worlds: must be a list of strings, got str {WORLD!r}",
        "  - role: must be an IRole or None, got str 'arn:aws:iam::123456789012:role/r'",
        "  - tags: must be a mapping of strings to strings or None, got dict {'team': 1}",
        "  - timeout: must be a Duration, got int 300",
        "  - wait: must be True or False, got int 1",
    ]


def test_tokens_and_imported_resources_are_of_the_types_they_stand_for() -> None:
    stack = cdk.Stack(cdk.App(), "Types", env=ENV)
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/r")
    version = cdk.Token.as_number(cdk.Fn.ref("Version"))  # a number token is a float
    export_constructs.PinpointExportJob(
        stack,
        "Job",
        destination=ExportDestination(stack, "Exports"),
        application_id=cdk.Fn.ref("App"),
        segment_id="s1",
        segment_version=version,  # type: ignore[arg-type]
        role=role,
    )


def test_an_interface_prop_takes_what_implements_it_and_nothing_else() -> None:
    stack = cdk.Stack(cdk.App(), "Types", env=ENV)
    destination = ExportDestination(stack, "Exports")
    trusted = iam.ServicePrincipal("forecast.amazonaws.com")
    roles: list[iam.IRole] = [
        iam.Role(stack, "Role", assumed_by=trusted),
        iam.LazyRole(stack, "Lazy", assumed_by=trusted),
        iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/r"),  # a dynamic proxy
    ]
    for i, role in enumerate(roles):
        export_constructs.ForecastExportJob(
            stack, f"Job{i}", destination=destination, role=role, **REQUIRED["ForecastExportJob"]
        )
    others: list[Any] = [cdk.Duration.minutes(5), destination.bucket, trusted]
    for i, other in enumerate(others):
        with pytest.raises(PropTypeError, match=rf"- role: must be an IRole or None, got {type(other).__name__} "):
            export_constructs.ForecastExportJob(
                stack,
                f"Not{i}",
                destination=destination,
                role=other,
                **REQUIRED["ForecastExportJob"],
            )


TAGGED = ["ForecastExportJob", "PersonalizeDatasetExportJob", "RoboMakerWorldExportJob"]


def tagged_job(name: str, tags: Any) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "Tags", env=ENV)
    cls = getattr(export_constructs, name)
    cls(stack, "Job", destination=ExportDestination(stack, "Exports"), tags=tags, **REQUIRED[name])
    return stack


@pytest.mark.parametrize("name", TAGGED)
def test_tags_may_be_any_mapping(name: str) -> None:
    # Mapping[str, str]: a read-only view used to reach jsii, which sends only dicts, and fail.
    stack = tagged_job(name, types.MappingProxyType({"team": "exports"}))
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    (job,) = [r for r in resources.values() if r["Type"].startswith("Custom::ExportJob")]
    assert '"team"' in json.dumps(job["Properties"]["Request"])


@pytest.mark.parametrize("name", TAGGED)
def test_tags_are_not_a_token_for_a_whole_map(name: str) -> None:
    # They are written entry by entry; a whole-map token failed with an AttributeError or TypeError.
    with pytest.raises(PropTypeError, match=r"- tags: must be a mapping of strings to strings or None, got Intrinsic"):
        tagged_job(name, cdk.Token.as_any(cdk.Fn.ref("Tags")))


@pytest.mark.parametrize("worlds", [UserList([WORLD]), cdk.Token.as_any(cdk.Fn.ref("Worlds"))])
def test_worlds_may_be_any_sequence_or_a_token_for_a_list(worlds: Any) -> None:
    stack = cdk.Stack(cdk.App(), "Worlds", env=ENV)
    export_constructs.RoboMakerWorldExportJob(
        stack, "Job", destination=ExportDestination(stack, "Exports"), worlds=worlds
    )
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    (job,) = [r for r in resources.values() if r["Type"].startswith("Custom::ExportJob")]
    assert job["Properties"]["Request"]["worlds"] in ([WORLD], {"Ref": "Worlds"})
