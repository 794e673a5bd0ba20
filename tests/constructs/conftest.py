from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import aws_cdk as cdk
import pytest

from sample_app.app import NAG_PACKS

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def nag_findings(app: cdk.App, stack: cdk.Stack) -> dict[str, list[str]]:
    """Unacknowledged findings of the five packs: {pack: ["rule id @ construct path", ...]}."""
    found: dict[str, list[str]] = {}
    for pack in NAG_PACKS:
        report = pack(app).validate_scope(stack)
        rows = [f"{v.rule_name} @ {r.construct_path}" for v in report.violations for r in v.violating_resources]
        if rows or not report.success:
            found[pack.__name__] = rows
    return found


@pytest.fixture(scope="session")
def sample() -> tuple[cdk.App, cdk.Stack]:
    """The sample app's stack, synthesized once for the whole run (jsii start-up is slow)."""
    from sample_app.app import build_app

    app, stack = build_app(nag=False)
    return app, stack


def resources_of(template: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def object_path(arn: Any) -> str:
    """The ``/<prefix>*`` part of an object ARN in a policy, whichever form CDK or the library
    wrote it in: ``Fn::Join ["", [<bucket Arn>, "/p/*"]]`` or ``Fn::Sub "${Bucket.Arn}/p/*"``."""
    if "Fn::Sub" in arn:
        text = arn["Fn::Sub"]
        return str(text[text.index(".Arn}") + len(".Arn}") :])
    return str(arn["Fn::Join"][1][1])


def handler_statements(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the export-job handler's role: its inline policy and the managed policy
    of each service (``ExportJobProvider/HandlerRole/<Service>Access``)."""
    statements: list[dict[str, Any]] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and logical_id.startswith(
            "ExportJobProviderHandlerRole"
        ):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


_RESOLVERS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def resolved(template: Mapping[str, Any], value: Any) -> Any:
    """``value`` as CloudFormation resolves it in stack ``S`` of 111122223333, eu-west-1 (one
    made-up deployment per template, so the made-up ids of one test agree)."""
    from export_constructs.testing.resolver import Pseudo, Resolver

    cached = _RESOLVERS.get(id(template))
    if cached is None or cached[0] is not template:
        pseudo = Pseudo("S", account="111122223333", region="eu-west-1")
        cached = _RESOLVERS[id(template)] = (template, Resolver(template, pseudo))
    return cached[1].resolve(value)


def refused_by(build: Callable[..., Any], props: Mapping[str, Any], prop: str, *words: str) -> None:
    """``build(**props)`` raises one ValueError naming ``S/Archive``, ``prop`` and ``words``."""
    with pytest.raises(ValueError) as raised:
        build(**props)
    message = str(raised.value)
    assert message.startswith("S/Archive: invalid props:\n"), message
    assert f"  - {prop}: " in message, message
    for word in words:
        assert word in message, message
