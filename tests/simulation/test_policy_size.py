"""IAM's size limits, as IAM counts them (resolved, whitespace not counted): a role's inline
policies together at most 10,240 characters, each managed policy at most 6,144, a bucket policy
20 KB (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The
handler's access for each service is a managed policy of its own, and every list a policy holds
collapses when it no longer fits; a 50-job stack of five services deploys in the simulation
within the limits, every request authorized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from export_constructs import (
    ExportDestination,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
    _defaults,
)
from export_constructs.testing import simulate
from export_constructs.testing.assembly import read_assembly
from export_constructs.testing.iam import shared_simulator
from export_constructs.testing.policies import (
    MANAGED_POLICY_LIMIT,
    ROLE_INLINE_LIMIT,
    AccountPolicies,
    _size,
)
from export_constructs.testing.resolver import Pseudo, Resolver

ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)


def fifty_jobs(outdir: Path, *, per_service: int = 10, pinpoint: int | None = None) -> Path:
    """The stack that overflowed the handler's inline policy (~11.4 K characters): ten jobs each
    of Pinpoint, Personalize (with job_name), RDS, RoboMaker and Forecast (with job_name)."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Fifty", env=ENV)
    dest = ExportDestination(stack, "Dest")
    for i in range(per_service if pinpoint is None else pinpoint):
        PinpointExportJob(stack, f"Pin{i}", application_id=f"{i:032x}", destination=dest)
    for i in range(per_service):
        PersonalizeDatasetExportJob(
            stack,
            f"Per{i}",
            dataset_arn=f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop-group-{i}/USERS",
            destination=dest,
            job_name=f"users-export-number-{i}",
        )
        RdsSnapshotExportJob(
            stack,
            f"Rds{i}",
            source_arn=f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:shop-db-snapshot-{i}",
            destination=dest,
        )
        RoboMakerWorldExportJob(
            stack,
            f"Rob{i}",
            worlds=[f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/sim-0123456789{i:02d}/world-abcdef{i:02d}"],
            destination=dest,
        )
        ForecastExportJob(
            stack,
            f"For{i}",
            forecast_arn=f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/shop_demand_{i}",
            destination=dest,
            job_name=f"demand_export_{i}",
        )
    app.synth()
    return outdir


def policies_of(assembly: Path) -> AccountPolicies:
    """The stack's policies resolved as CloudFormation would (in the aws-us-gov partition, whose
    name is the longest)."""
    (template,) = read_assembly(assembly)
    pseudo = Pseudo(
        stack_name=template.name, account=ACCOUNT, region=REGION, partition="aws-us-gov", url_suffix="amazonaws.com"
    )
    policies = AccountPolicies(ACCOUNT, REGION, "aws-us-gov")
    policies.add_template(template.resources, Resolver(template.template, pseudo).resolve, template.name)
    return policies


def size_problems(policies: AccountPolicies) -> list[str]:
    return [p for p in policies.check_grammar(shared_simulator()) if " over " in p]


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fifty_jobs(tmp_path_factory.mktemp("fifty"))


def test_each_role_and_managed_policy_is_within_iams_limits(fifty: Path) -> None:
    policies = policies_of(fifty)
    assert size_problems(policies) == []
    handler = next(name for name in policies._by_name if "HandlerRole" in name)
    inline = [d for where, d in policies._by_name[handler] if where not in policies._managed]
    managed = [d for where, d in policies._by_name[handler] if where in policies._managed]
    assert len(managed) == 5, "one per service"
    assert sum(map(_size, inline)) <= ROLE_INLINE_LIMIT and all(_size(d) <= MANAGED_POLICY_LIMIT for d in managed)


def test_the_fifty_jobs_deploy_in_the_simulation_every_request_authorized(fifty: Path) -> None:
    result = simulate(fifty, authorize=True, delete=False)
    assert result.ok, (result.failures[:3], result.problems[:5])
    creates = [s for s in result.steps if s.request_type == "Create" and s.service != "WaitCondition"]
    assert len({s.logical_id for s in creates}) >= 50


def test_without_the_size_budget_the_pinpoint_policy_would_overflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: listing 25 Pinpoint projects (three ARNs each) unbounded makes a managed
    policy IAM refuses."""
    monkeypatch.setattr(_defaults, "MAX_LISTED_PREFIXES", 1000)
    monkeypatch.setattr(_defaults, "MAX_LISTED_CHARS", 10**6)
    import export_constructs.pinpoint

    original = export_constructs.pinpoint.PinpointExportJob._grant_handler

    def unbounded(self: PinpointExportJob, application_id: str) -> None:
        provider = self._provider
        real = provider._sources

        def sources(*args: Any, **kwargs: Any) -> Any:
            return real(*args, **{**kwargs, "max_chars": 10**6})

        monkeypatch.setattr(provider, "_sources", sources)
        original(self, application_id)

    monkeypatch.setattr(export_constructs.pinpoint.PinpointExportJob, "_grant_handler", unbounded)
    problems = size_problems(policies_of(fifty_jobs(tmp_path / "out", per_service=1, pinpoint=25)))
    assert any("PinpointAccess" in p and f"over {MANAGED_POLICY_LIMIT}" in p for p in problems), problems
