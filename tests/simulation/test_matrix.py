"""The end-to-end lifecycle of every service of the synthesized sample app - Create, polls,
Update (replacing or keeping the job), Delete - through the real handler code and the Provider
framework's rules, against the fake services. The failure modes are in test_faults.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from export_constructs.testing import Scenario, simulate
from export_constructs.testing.assembly import EXPORT_JOB_TYPE

from .conftest import SERVICES, TEMPLATE, change_request, edited, job_of, simulated


def test_the_sample_app_has_a_job_of_every_service(sample_assembly: Path) -> None:
    template = json.loads((sample_assembly / TEMPLATE).read_text())
    types = {v["Type"] for v in template["Resources"].values() if v["Type"].startswith(EXPORT_JOB_TYPE)}
    assert types == {f"{EXPORT_JOB_TYPE}{s}" for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_success_reports_the_jobs_attributes_and_delete_keeps_the_output(sample_assembly: Path, service: str) -> None:
    spec = SERVICES[service]
    result = simulated(sample_assembly, service, Scenario.SUCCESS)
    created = result.step(job_of(sample_assembly, service))
    assert created.status == "SUCCESS", created.reason
    assert created.data["JobArn"] == created.physical_id
    assert created.data["Status"] == spec.succeeded
    assert created.data["OutputUri"].startswith("s3://exportconstructssample-exports")
    assert created.polls >= 2, "the job was polled through its running states"
    deleted = result.step(job_of(sample_assembly, service), "Delete")
    assert deleted.status == "SUCCESS" and deleted.physical_id == created.physical_id
    operations = result.operations(service)
    assert operations.count(spec.create) == 1
    assert spec.stop not in operations, "a finished job is not stopped on Delete"


@pytest.mark.parametrize("service", SERVICES)
def test_update_with_a_changed_request_starts_a_new_job_and_cleans_up_the_old_one(
    sample_assembly: Path, tmp_path: Path, service: str
) -> None:
    spec = SERVICES[service]

    updated = edited(sample_assembly, tmp_path / "updated", service, change_request(service))
    result = simulated(sample_assembly, service, Scenario.SUCCESS, update_to=updated)
    logical_id = job_of(sample_assembly, service)
    created, update = result.step(logical_id), result.step(logical_id, "Update")
    assert update.status == "SUCCESS", update.reason
    assert update.physical_id != created.physical_id, "a new job, so a new physical id"
    cleanup = result.step(logical_id, "Delete", "cleanup")
    assert cleanup.physical_id == created.physical_id and cleanup.status == "SUCCESS"
    assert result.operations(service).count(spec.create) == 2


@pytest.mark.parametrize("service", SERVICES)
def test_update_of_the_timeout_only_keeps_the_job(sample_assembly: Path, tmp_path: Path, service: str) -> None:
    spec = SERVICES[service]

    def longer(properties: dict[str, Any]) -> None:
        properties["TimeoutSeconds"] = "3300"

    updated = edited(sample_assembly, tmp_path / "updated", service, longer)
    result = simulated(sample_assembly, service, Scenario.SUCCESS, update_to=updated)
    logical_id = job_of(sample_assembly, service)
    update = result.step(logical_id, "Update")
    assert update.status == "SUCCESS" and update.physical_id == result.step(logical_id).physical_id
    assert not [s for s in result.steps if s.phase == "cleanup"]
    assert result.operations(service).count(spec.create) == 1


def test_unchanged_jobs_get_no_update_event(sample_assembly: Path) -> None:
    result = simulate(sample_assembly, update_to=sample_assembly, delete=False)
    assert [s.request_type for s in result.steps] == ["Create"] * len(SERVICES)


def test_simulating_a_stack_object_synthesizes_it() -> None:
    import aws_cdk as cdk

    from sample_app.app import build_app

    _, stack = build_app(cdk.App(), nag=False)
    lines: list[str] = []
    result = simulate(stack, log=lines.append, delete=False)
    assert {s.service for s in result.steps} == set(SERVICES)
    assert all(s.status == "SUCCESS" for s in result.steps)
    assert any("->" in line and "SUCCESS" in line for line in lines)
