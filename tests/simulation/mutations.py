"""Mutation testing of the policies a template holds: remove one statement the library writes,
simulate with authorization, and see whether anything fails."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from export_constructs.testing import simulate
from export_constructs.testing.assembly import DEFAULT_ACCOUNT, DEFAULT_REGION
from export_constructs.testing.recurring import simulate_schedule
from export_constructs.testing.snapshots import Snapshot, simulate_snapshots

from .conftest import copy_assembly

#: The resources of the recurring exports' runner, and a day its runs are played on.
RUNNER = "ExportJobProviderRunner"
RUN_DAY = datetime(2026, 11, 2, tzinfo=UTC)
#: The sample app's snapshot export's database (in the simulation's account and Region).
SHOP_DB = f"arn:aws:rds:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:db:shop-db"

#: Statements whose absence no simulated request can show, each with why.
NOT_SHOWN = {
    # CDK's own: X-Ray tracing and Lambda logging happen outside the export APIs.
    "xray:PutTraceSegments",
    "logs:CreateLogStream",
    "logs:CreateLogDelivery",
    "lambda:InvokeFunction",
    "lambda:GetFunction",
    "states:StartExecution",
    # The bucket policies' TLS-only denials and the log bucket's delivery grant.
    "s3:*",
    "s3:PutObject@logging.s3.amazonaws.com",
    # Key administration by the account (the default key policy statement).
    "kms:*",
    # CloudWatch Logs encrypting the provider's log group with its key (no export API involved).
    "kms:Decrypt@logs",
}


def _statement_key(statement: dict[str, Any]) -> str:
    actions = statement.get("Action")
    first = actions[0] if isinstance(actions, list) else actions
    principal = statement.get("Principal", {})
    service = principal.get("Service") if isinstance(principal, dict) else None
    if service == "logging.s3.amazonaws.com":
        return f"{first}@{service}"
    if ":logs:" in json.dumps(statement.get("Condition", {})) or '"logs.' in json.dumps(principal):
        return f"{first}@logs"
    return str(first)


def library_statements(template: dict[str, Any]) -> Iterator[tuple[str, str, int, dict[str, Any]]]:
    """(logical id, policy field, index, statement) of each Allow statement a simulated request
    could show to be needed (not in :data:`NOT_SHOWN`)."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for field in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
            for index, statement in enumerate(props.get(field, {}).get("Statement", [])):
                if _statement_key(statement) not in NOT_SHOWN and statement.get("Effect") != "Deny":
                    yield logical_id, field, index, statement


def surviving_removals(assembly: Path, stack: str, workdir: Path) -> tuple[int, list[str]]:
    """Remove each of ``stack``'s library statements in turn and simulate it (authorized):
    how many were removed, and those whose removal nothing noticed."""
    template_file = assembly / f"{stack}.template.json"
    original = json.loads(template_file.read_text())
    survivors, mutated = [], 0
    for logical_id, field, index, statement in list(library_statements(original)):
        mutated += 1
        target = copy_assembly(assembly, workdir / f"m{mutated}")
        template = copy.deepcopy(original)
        kept = template["Resources"][logical_id]["Properties"][field]["Statement"]
        del kept[index]
        if not kept:
            kept.append({"Effect": "Deny", "Action": "none:None", "Resource": "*"})
        (target / template_file.name).write_text(json.dumps(template))
        if logical_id.startswith(RUNNER):
            # The recurring exports' runner: its statements are used by the runs, not the deploy:
            # a day of the schedules, and a snapshot of the snapshot export's database.
            runs = simulate_schedule(target, start=RUN_DAY, periods=1, authorize=True)
            noticed = bool(runs.problems) or any(r.status != "SUCCEEDED" for r in runs.runs) or not runs.runs
            if not noticed and any(r["Type"] == "AWS::Events::Rule" for r in original["Resources"].values()):
                snapshot = Snapshot.automated_of(SHOP_DB, RUN_DAY + timedelta(hours=3))
                taken = simulate_snapshots(target, start=RUN_DAY, snapshots=[snapshot], authorize=True)
                noticed = (
                    bool(taken.problems)
                    or any(r.status != "SUCCEEDED" for r in taken.runs)
                    or [w.source for w in taken.exported()] != [snapshot.arn]
                )
        else:
            result = simulate(target, stacks=[stack], authorize=True)
            noticed = bool(result.problems) or any(s.status != "SUCCESS" for s in result.steps)
        if not noticed:
            survivors.append(f"{logical_id}.{field}[{index}]: {json.dumps(statement)[:300]}")
    return mutated, survivors
