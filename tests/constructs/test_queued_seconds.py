"""``queued_seconds`` and the provider's ``max_concurrent`` lanes."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from export_constructs import ExportDestination, ExportJobProvider, ForecastExportJob


def test_queued_seconds_is_the_resources_queued_seconds_attribute() -> None:
    stack = cdk.Stack(cdk.App(), "Queued")
    forecast = f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"
    job = ForecastExportJob(stack, "Demand", destination=ExportDestination(stack, "Exports"), forecast_arn=forecast)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(job.queued_seconds) == {"Fn::GetAtt": [stack.resolve(resource.logical_id), "QueuedSeconds"]}


def _forecast_jobs(stack: cdk.Stack, count: int) -> list[ForecastExportJob]:
    forecast = f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"
    destination = ExportDestination(stack, "Exports")
    return [ForecastExportJob(stack, f"D{n}", destination=destination, forecast_arn=forecast) for n in range(count)]


def _job_dependencies(stack: cdk.Stack, jobs: list[ForecastExportJob]) -> list[list[int]]:
    """For each job, the indexes of the jobs its resource depends on."""
    template = Template.from_stack(stack).to_json()["Resources"]
    ids = [stack.resolve(job.node.default_child.logical_id) for job in jobs]  # type: ignore[union-attr]
    return [sorted(ids.index(d) for d in template[i].get("DependsOn", []) if d in ids) for i in ids]


def test_the_provider_runs_a_services_jobs_in_lanes_of_its_quota_by_default() -> None:
    stack = cdk.Stack(cdk.App(), "Lanes")
    jobs = _forecast_jobs(stack, 7)
    assert _job_dependencies(stack, jobs) == [[], [], [], [0], [1], [2], [3]]


def test_max_concurrent_none_runs_them_all_at_once_and_a_number_sets_the_lanes() -> None:
    unlimited = cdk.Stack(cdk.App(), "Unlimited")
    ExportJobProvider(unlimited, ExportJobProvider.ID, max_concurrent={"Forecast": None})
    assert _job_dependencies(unlimited, jobs := _forecast_jobs(unlimited, 4)) == [[]] * len(jobs)
    one = cdk.Stack(cdk.App(), "One")
    ExportJobProvider(one, ExportJobProvider.ID, max_concurrent={"Forecast": 1})
    assert _job_dependencies(one, _forecast_jobs(one, 3)) == [[], [0], [1]]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_max_concurrent_must_be_a_whole_number_of_at_least_one(bad: object) -> None:
    with pytest.raises(ValueError, match=r"max_concurrent"):  # PropTypeError is a ValueError too
        ExportJobProvider(cdk.Stack(cdk.App(), "Bad"), ExportJobProvider.ID, max_concurrent={"Forecast": bad})  # type: ignore[dict-item]


def test_a_max_concurrent_of_the_wrong_type_names_the_type_in_words() -> None:
    with pytest.raises(ValueError) as raised:
        ExportJobProvider(cdk.Stack(cdk.App(), "Bad"), ExportJobProvider.ID, max_concurrent={"Forecast": "3"})  # type: ignore[dict-item]
    assert "must be a mapping of strings to ints (each may be None) or None, got dict" in str(raised.value)


def _provider_warnings(stack: cdk.Stack) -> list[str]:
    cdk.App.of(stack).synth()  # type: ignore[union-attr]
    provider = ExportJobProvider.of(stack)
    return [str(m.data) for m in provider.node.metadata if m.type == "aws:cdk:warning"]


def test_a_max_concurrent_name_no_job_has_is_a_warning_at_synth() -> None:
    stack = cdk.Stack(cdk.App(), "Typo")
    ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent={"forecast": 1, "Forecast": 2})
    _forecast_jobs(stack, 2)
    (warning,) = _provider_warnings(stack)
    assert "max_concurrent names 'forecast', which no export job of this stack has" in warning
    assert "the services of this stack's jobs are: 'Forecast'" in warning
    assert "[ack: export-constructs:max-concurrent-unknown-service]" in warning


def test_max_concurrent_names_of_the_stacks_services_give_no_warning() -> None:
    stack = cdk.Stack(cdk.App(), "Named")
    ExportJobProvider(stack, ExportJobProvider.ID, max_concurrent={"Forecast": 2})
    _forecast_jobs(stack, 2)
    assert _provider_warnings(stack) == []
