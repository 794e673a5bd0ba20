"""Exports longer than an hour, construct side: a job with ``timeout`` above 55 minutes waits on
an ``AWS::CloudFormation::WaitCondition`` signalled by the stack's tracker; ``wait=False`` does
not wait at all; and the limits are checked at synth."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Template

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob
from export_constructs.handler import consts

from .conftest import nag_findings, resources_of

DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
FORECAST = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand"
Built = tuple[cdk.App, cdk.Stack, dict[str, Any]]


def new_stack(name: str) -> tuple[cdk.App, cdk.Stack, ExportDestination]:
    app = cdk.App()
    stack = cdk.Stack(app, name, env=cdk.Environment(account="123456789012", region="us-east-1"))
    return app, stack, ExportDestination(stack, "Exports")


@pytest.fixture(scope="module")
def built() -> Built:
    app, stack, dest = new_stack("LongWait")
    long = PersonalizeDatasetExportJob(stack, "Users", dataset_arn=DATASET, destination=dest, timeout=Duration.hours(6))
    ForecastExportJob(stack, "Demand", forecast_arn=FORECAST, destination=dest, wait=False)
    PersonalizeDatasetExportJob(stack, "Short", dataset_arn=DATASET + "2", destination=dest)
    cdk.CfnOutput(stack, "UsersStatus", value=long.status)
    cdk.CfnOutput(stack, "UsersOutput", value=long.output_uri)
    template = dict(Template.from_stack(stack).to_json())
    return app, stack, template


def job(template: dict[str, Any], service: str, construct_id: str) -> tuple[str, dict[str, Any]]:
    """The job's custom resource (``<id>Resource...`` is CDK's logical id for ``<id>/Resource``)."""
    (found,) = [
        (k, v)
        for k, v in resources_of(template, f"Custom::ExportJob-{service}").items()
        if k.startswith(construct_id) and consts.PROP_JOB_ID not in v["Properties"]
    ]
    return found


def test_a_six_hour_job_waits_on_a_wait_condition_of_21600_seconds(built: Built) -> None:
    _, _, template = built
    ((_condition_id, condition),) = resources_of(template, "AWS::CloudFormation::WaitCondition").items()
    (handle_id,) = resources_of(template, "AWS::CloudFormation::WaitConditionHandle")
    assert condition["Properties"] == {"Count": 1, "Handle": {"Ref": handle_id}, "Timeout": "21600"}
    job_id, resource = job(template, "Personalize", "Users")
    assert job_id in condition["DependsOn"], "the wait starts once the job has started"
    properties = resource["Properties"]
    assert properties[consts.PROP_MODE] == consts.MODE_SIGNAL
    assert properties[consts.PROP_WAIT_HANDLE] == {"Ref": handle_id}
    # The tracker's own deadline, five minutes before the wait condition's.
    assert properties[consts.PROP_TIMEOUT_SECONDS] == str(21600 - 300)
    (machine_id,) = [k for k in resources_of(template, "AWS::StepFunctions::StateMachine") if "Tracker" in k]
    assert properties[consts.PROP_TRACKER] == {"Ref": machine_id}


def test_the_tracker_polls_with_the_handlers_code_and_is_logged_and_traced(built: Built) -> None:
    _, _, template = built
    machines = {k: v for k, v in resources_of(template, "AWS::StepFunctions::StateMachine").items() if "Tracker" in k}
    ((_, machine),) = machines.items()
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert "Wait" in definition and "$.Result.Done" in definition
    (track,) = [v for k, v in resources_of(template, "AWS::Lambda::Function").items() if "TrackerTrack" in k]
    assert track["Properties"]["Handler"] == consts.TRACK_ENTRY
    assert track["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_the_handler_may_start_and_stop_only_the_trackers_executions(built: Built) -> None:
    _, _, template = built
    (policy,) = [v for k, v in resources_of(template, "AWS::IAM::Policy").items() if "TrackerStartStop" in k]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Action"] for s in statements} == {"states:StartExecution", "states:StopExecution"}
    text = json.dumps(statements)
    assert ":execution:" in text and "TrackerStateMachine" in text
    _job_id, resource = job(template, "Personalize", "Users")
    (policy_id,) = [k for k in resources_of(template, "AWS::IAM::Policy") if "TrackerStartStop" in k]
    assert policy_id in resource["DependsOn"], "the job's resource may start the tracker once it is allowed to"


def test_attributes_come_from_a_result_resource_read_after_the_wait(built: Built) -> None:
    _, _, template = built
    (condition_id,) = resources_of(template, "AWS::CloudFormation::WaitCondition")
    job_id, _ = job(template, "Personalize", "Users")
    ((result_id, result),) = [
        (k, v)
        for k, v in resources_of(template, "Custom::ExportJob-Personalize").items()
        if k.startswith("UsersResult")
    ]
    assert condition_id in result["DependsOn"], "read once the wait condition has completed"
    assert result["Properties"][consts.PROP_MODE] == consts.MODE_REPORT
    assert result["Properties"][consts.PROP_JOB_ID] == {"Fn::GetAtt": [job_id, consts.ATTR_JOB_ARN]}
    assert result["Properties"][consts.PROP_WAIT_CONDITION] == {"Ref": condition_id}
    outputs = template["Outputs"]
    assert outputs["UsersStatus"]["Value"] == {"Fn::GetAtt": [result_id, consts.ATTR_STATUS]}
    assert outputs["UsersOutput"]["Value"] == {"Fn::GetAtt": [result_id, consts.ATTR_OUTPUT_URI]}


def test_wait_false_completes_at_start_without_a_wait_condition(built: Built) -> None:
    _, _, template = built
    _, resource = job(template, "Forecast", "Demand")
    assert resource["Properties"][consts.PROP_MODE] == consts.MODE_START
    assert consts.PROP_WAIT_HANDLE not in resource["Properties"]


def test_the_short_path_is_unchanged(built: Built) -> None:
    _, _, template = built
    _, resource = job(template, "Personalize", "Short")
    assert consts.PROP_MODE not in resource["Properties"]
    assert resource["Properties"][consts.PROP_TIMEOUT_SECONDS] == "3000"


def test_the_long_wait_stack_passes_the_five_nag_packs(built: Built) -> None:
    app, stack, _ = built
    assert nag_findings(app, stack) == {}


def test_cfn_lint_passes_on_the_long_wait_stack(built: Built) -> None:
    from .test_sample_app import cfn_lint

    assert cfn_lint(built[2]) == []


def test_a_changed_timeout_replaces_the_wait_condition() -> None:
    def condition_ids(hours: int) -> set[str]:
        _, stack, dest = new_stack("Replace")
        PersonalizeDatasetExportJob(
            stack, "Users", dataset_arn=DATASET, destination=dest, timeout=Duration.hours(hours)
        )
        return set(resources_of(Template.from_stack(stack).to_json(), "AWS::CloudFormation::WaitCondition"))

    assert condition_ids(6) == condition_ids(6), "stable across synths"
    assert condition_ids(6) != condition_ids(7), "wait conditions cannot be updated: a new one waits"


@pytest.mark.parametrize(
    ("timeout", "ok"),
    [
        (Duration.hours(12), True),
        (Duration.seconds(43_201), False),
        (Duration.minutes(55), True),
        (Duration.seconds(60), True),
        (Duration.seconds(59), False),
    ],
    ids=["12h", "12h+1s", "55min", "1min", "59s"],
)
def test_timeout_limits(timeout: Duration, ok: bool) -> None:
    _, stack, dest = new_stack("Limits")

    def make() -> None:
        PersonalizeDatasetExportJob(stack, "Job", dataset_arn=DATASET, destination=dest, timeout=timeout)

    if ok:
        make()
    else:
        with pytest.raises(
            ValueError, match=r"Limits/Job: invalid props:\n  - timeout: must be between 1 minute and 12"
        ):
            make()
