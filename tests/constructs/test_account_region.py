"""What can be known at synth of where a job reads and writes: a source of
another Region or account, a dataset group given as the dataset, a Pinpoint project id that is
not 32 hexadecimal digits, a job name two jobs of a stack share, and a role of another account
are each a ValueError naming the construct's path, the prop and the rule; two jobs writing under
one prefix of a destination get a warning. Tokens, and an environment-agnostic stack's account and
Region, pass unchecked.

Speed: one App for the module (nothing is synthesized; validation runs in the constructors), one
more for the warning, whose policy is resolved without a synth.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from constructs import Construct

from export_constructs import (
    ExportDestination,
    ExportJobProvider,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RoboMakerWorldExportJob,
)

ACCOUNT, REGION = "123456789012", "us-east-1"
OTHER_ACCOUNT, OTHER_REGION = "210987654321", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)

DATASET = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/USERS"
FORECAST = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/shop_demand"
WORLD = f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/sim-1/world-1"
APP = "0123456789abcdef0123456789abcdef"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/exports"
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/exports"

#: Each service's job with valid props: (construct, props).
JOBS: dict[str, tuple[Callable[..., Construct], dict[str, Any]]] = {
    "Personalize": (PersonalizeDatasetExportJob, {"dataset_arn": DATASET}),
    "Forecast": (ForecastExportJob, {"forecast_arn": FORECAST}),
    "Pinpoint": (PinpointExportJob, {"application_id": APP}),
    "RoboMaker": (RoboMakerWorldExportJob, {"worlds": [WORLD]}),
}


@dataclass
class Scope:
    """The module's stacks: one in a known account and Region, one environment-agnostic, and one
    in another account (whose role the first may not use)."""

    stack: cdk.Stack
    agnostic: cdk.Stack
    other: cdk.Stack
    destinations: dict[str, ExportDestination] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self, letter: str = "J") -> str:
        return f"{letter}{next(self._ids)}"

    def job(self, service: str, stack: cdk.Stack | None = None, **props: Any) -> Callable[[], Construct]:
        """A builder of ``service``'s job in ``stack`` (default: the known one) with valid props
        but ``props``; its path is ``<stack>/<id>``, the id drawn when it is built."""
        stack = stack or self.stack
        make, defaults = JOBS[service]
        destination = self.destinations[stack.stack_name]
        return lambda: make(stack, self.new_id(), destination=destination, **{**defaults, **props})


@pytest.fixture(scope="module")
def scope() -> Scope:
    app = cdk.App()
    stacks = Scope(
        cdk.Stack(app, "Known", env=ENV),
        cdk.Stack(app, "Agnostic"),
        cdk.Stack(app, "Other", env=cdk.Environment(account=OTHER_ACCOUNT, region=REGION)),
    )
    for stack in (stacks.stack, stacks.agnostic):
        stacks.destinations[stack.stack_name] = ExportDestination(stack, "Exports")
    return stacks


def refused(scope: Scope, build: Callable[[], Construct], prop: str, *rule: str) -> str:
    """``build()`` raises a ValueError that starts with the new construct's path and has a problem
    of ``prop`` saying each of ``rule``; the message."""
    before = next(scope._ids)
    with pytest.raises(ValueError) as error:
        build()
    message = str(error.value)
    head, *problems = message.split("\n  - ")
    assert head == f"Known/J{before + 1}: invalid props:", message
    assert any(p.startswith(f"{prop}: ") and all(r in p for r in rule) for p in problems), message
    return message


# -- sources of another Region or account ------------------------------------------------------------

SOURCES = [
    ("Personalize", "dataset_arn", "a dataset", lambda arn: {"dataset_arn": arn}, DATASET),
    ("Forecast", "forecast_arn", "a forecast", lambda arn: {"forecast_arn": arn}, FORECAST),
    ("RoboMaker", "worlds[1]", "a world", lambda arn: {"worlds": [WORLD, arn]}, WORLD),
]


@pytest.mark.parametrize(("service", "prop", "what", "props", "arn"), SOURCES, ids=[s[0] for s in SOURCES])
def test_a_source_of_another_region_or_account_is_refused(
    scope: Scope, service: str, prop: str, what: str, props: Callable[[str], dict[str, Any]], arn: str
) -> None:
    elsewhere = arn.replace(f":{REGION}:", f":{OTHER_REGION}:")
    refused(
        scope,
        scope.job(service, **props(elsewhere)),
        prop,
        f"must be {what} of this stack's Region {REGION}",
        f"got Region '{OTHER_REGION}'",
        f"{service} exports only from the account and Region it runs in",
    )
    foreign = arn.replace(f":{ACCOUNT}:", f":{OTHER_ACCOUNT}:")
    refused(
        scope,
        scope.job(service, **props(foreign)),
        prop,
        f"must be {what} of this stack's account {ACCOUNT}",
        f"got account '{OTHER_ACCOUNT}'",
    )
    scope.job(service, **props(arn))()  # its own Region and account


@pytest.mark.parametrize(("service", "prop", "what", "props", "arn"), SOURCES, ids=[s[0] for s in SOURCES])
def test_a_source_is_checked_only_where_both_are_known(
    scope: Scope, service: str, prop: str, what: str, props: Callable[[str], dict[str, Any]], arn: str
) -> None:
    elsewhere = arn.replace(f":{REGION}:", f":{OTHER_REGION}:").replace(f":{ACCOUNT}:", f":{OTHER_ACCOUNT}:")
    scope.job(service, scope.agnostic, **props(elsewhere))()  # the stack's account and Region are tokens
    scope.job(service, **props(cdk.Fn.ref("Source")))()  # the ARN is a token
    # A token field passes; the other fields are still checked.
    token_region = elsewhere.replace(f":{OTHER_REGION}:", f":{cdk.Aws.REGION}:")
    refused(scope, scope.job(service, **props(token_region)), prop, f"this stack's account {ACCOUNT}")
    scope.job(service, **props(token_region.replace(OTHER_ACCOUNT, ACCOUNT)))()


# -- a dataset group given as the dataset ------------------------------------------------------------


def test_a_dataset_group_is_refused_with_a_dataset_to_give_instead(scope: Scope) -> None:
    group = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/shop"
    message = refused(
        scope,
        scope.job("Personalize", dataset_arn=group),
        "dataset_arn",
        "this is a dataset group; give one of its datasets, e.g. "
        "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
    )
    assert group in message
    scope.job("Personalize", dataset_arn=f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop-group/USERS")()


# -- Pinpoint project ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("app", [APP[:16], APP[:-1], APP + "0", APP[:-1] + "g", f"{APP[:8]}-{APP[8:]}"])
def test_a_pinpoint_project_id_must_be_32_hexadecimal_digits(scope: Scope, app: str) -> None:
    refused(scope, scope.job("Pinpoint", application_id=app), "application_id", "[0-9a-fA-F]{32}", "32 hexadecimal")


def test_a_pinpoint_project_id_of_32_hexadecimal_digits_passes(scope: Scope) -> None:
    scope.job("Pinpoint", application_id="f" * 32)()
    scope.job("Pinpoint", application_id=APP.upper())()  # no AWS model states the case
    scope.job("Pinpoint", application_id=cdk.Fn.ref("Project"))()


# -- one job name per job ----------------------------------------------------------------------------


def test_a_second_personalize_job_of_a_name_is_refused_naming_the_first(scope: Scope) -> None:
    first = scope.job("Personalize", job_name="nightly_users")()
    refused(
        scope,
        scope.job("Personalize", job_name="nightly_users"),
        "job_name",
        "must be unique among this stack's Personalize export jobs",
        f"{first.node.path} already has the name 'nightly_users'",
    )
    scope.job("Personalize", scope.agnostic, job_name="nightly_users")()  # another stack
    scope.job("Forecast", job_name="nightly_users")()  # another service


def test_forecast_job_names_are_per_forecast(scope: Scope) -> None:
    first = scope.job("Forecast", job_name="weekly")()
    refused(
        scope,
        scope.job("Forecast", job_name="weekly"),
        "job_name",
        "unique among this stack's Forecast export jobs of this forecast",
        f"{first.node.path} already has the name 'weekly'",
    )
    # The export job's ARN holds the forecast's name and its own: another forecast may use it.
    scope.job("Forecast", job_name="weekly", forecast_arn=FORECAST + "_2")()


def test_a_refused_job_does_not_take_its_name(scope: Scope) -> None:
    refused(scope, scope.job("Personalize", job_name="taken_by_none", ingestion_mode="NEVER"), "ingestion_mode")
    scope.job("Personalize", job_name="taken_by_none")()
    # Token names are never compared (two tokens may stand for different names).
    name = cdk.Token.as_string(cdk.Fn.ref("Name"))
    scope.job("Personalize", job_name=name)()
    scope.job("Personalize", job_name=name)()


# -- roles of another account ------------------------------------------------------------------------


@pytest.mark.parametrize("service", list(JOBS))
def test_a_role_of_another_account_is_refused(scope: Scope, service: str) -> None:
    by_arn = iam.Role.from_role_arn(scope.stack, scope.new_id("R"), OTHER_ROLE, mutable=False)
    refused(
        scope,
        scope.job(service, role=by_arn),
        "role",
        f"must be a role of this stack's account {ACCOUNT}",
        f"{service} accepts only roles of the account it runs in",
        OTHER_ROLE,
    )
    # A role whose ARN is a token, made in a stack of another account.
    made = iam.Role(scope.other, scope.new_id("R"), assumed_by=iam.ServicePrincipal("export.amazonaws.com"))
    refused(scope, scope.job(service, role=made), "role", f"a role of account '{OTHER_ACCOUNT}'")
    own = iam.Role.from_role_arn(scope.stack, scope.new_id("R"), ROLE, mutable=False)
    scope.job(service, role=own)()


@pytest.mark.parametrize("service", list(JOBS))
def test_a_role_is_checked_only_where_both_accounts_are_known(scope: Scope, service: str) -> None:
    foreign = iam.Role.from_role_arn(scope.agnostic, scope.new_id("R"), OTHER_ROLE, mutable=False)
    scope.job(service, scope.agnostic, role=foreign)()
    unknown = iam.Role.from_role_arn(scope.stack, scope.new_id("R"), cdk.Fn.ref("Role"), mutable=False)
    scope.job(service, role=unknown)()


# -- one prefix per job: a warning -------------------------------------------------------------------


def warnings_of(construct: Construct) -> list[str]:
    return [str(m.data) for m in construct.node.metadata if m.type == "aws:cdk:warning"]


def test_two_jobs_writing_under_one_prefix_get_a_warning_and_the_policies_still_grow() -> None:
    stack = cdk.Stack(cdk.App(), "Shared", env=ENV)
    exports, archive = ExportDestination(stack, "Exports"), ExportDestination(stack, "Archive")
    first = PersonalizeDatasetExportJob(stack, "Users", dataset_arn=DATASET, destination=exports, prefix="common/")
    assert not any("shared-prefix" in w for w in warnings_of(first))
    second = ForecastExportJob(stack, "Demand", forecast_arn=FORECAST, destination=exports, prefix="common/")
    (warning,) = [w for w in warnings_of(second) if "export-constructs:shared-prefix" in w]
    assert "Shared/Demand and Shared/Users both write under the prefix 'common/' of Shared/Exports" in warning
    elsewhere = PersonalizeDatasetExportJob(stack, "Kept", dataset_arn=DATASET, destination=archive, prefix="common/")
    token = PersonalizeDatasetExportJob(stack, "T", dataset_arn=DATASET, destination=exports, prefix=cdk.Fn.ref("P"))
    own = PersonalizeDatasetExportJob(stack, "Own", dataset_arn=DATASET, destination=exports)  # its default prefix
    assert not any("shared-prefix" in w for j in (elsewhere, token, own) for w in warnings_of(j))
    # The warning resolved nothing: a dataset added after it still reaches the handler's policy
    # (a Lazy.list resolved during construction would have frozen without it).
    later = DATASET.replace("USERS", "ITEMS")
    PersonalizeDatasetExportJob(stack, "Later", dataset_arn=later, destination=exports, prefix="common/")
    policy = ExportJobProvider.of(stack)._service_policy("Personalize")
    assert later in json.dumps(stack.resolve(policy.document.to_json()))
