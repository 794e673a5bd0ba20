"""The pieces of the RDS snapshot simulation: the events RDS sends, EventBridge's pattern matching
and input transformer (against what CDK synthesizes), and the driver starting a hand-made state
machine from a rule, with EventBridge's role authorized by IAM."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn

from export_constructs.testing.eventbridge import matches, path_value, target_input, transform
from export_constructs.testing.resolver import Pseudo, Resolver
from export_constructs.testing.snapshots import Snapshot, simulate_snapshots, snapshot_event

ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
DB = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:shop-db"
CLUSTER = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders"
NIGHT = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
#: The contract's pattern: every snapshot-created event of instances and clusters.
PATTERN: dict[str, Any] = {
    "source": ["aws.rds"],
    "detail-type": ["RDS DB Snapshot Event", "RDS DB Cluster Snapshot Event"],
    "detail": {"EventID": ["RDS-EVENT-0042", "RDS-EVENT-0091", "RDS-EVENT-0075", "RDS-EVENT-0169"]},
}


def four_events() -> dict[tuple[bool, bool], dict[str, Any]]:
    """The events of an automated and a manual snapshot of an instance and of a cluster, by
    (cluster, automated)."""
    found = {}
    for source in (DB, CLUSTER):
        automatic = Snapshot.automated_of(source, NIGHT)
        manual = Snapshot(NIGHT, source, "before-upgrade", automated=False)
        for snapshot in (automatic, manual):
            found[(snapshot.cluster, snapshot.automated)] = snapshot_event(snapshot, REGION, ACCOUNT)
    return found


def test_rds_events_name_the_snapshot_and_say_what_was_created() -> None:
    made = four_events()
    automated = made[(False, True)]
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:rds:shop-db-2026-12-01-03-05"
    assert automated["source"] == "aws.rds" and automated["detail-type"] == "RDS DB Snapshot Event"
    assert (automated["account"], automated["region"], automated["time"]) == (ACCOUNT, REGION, "2026-12-01T03:05:00Z")
    assert automated["resources"] == [arn]
    assert automated["detail"] == {
        "EventCategories": ["creation"],
        "SourceType": "SNAPSHOT",
        "SourceArn": arn,
        "Date": "2026-12-01T03:05:00.000Z",
        "SourceIdentifier": "rds:shop-db-2026-12-01-03-05",
        "Message": "Automated snapshot created",
        "EventID": "RDS-EVENT-0091",
    }
    cluster = made[(True, True)]
    assert cluster["detail-type"] == "RDS DB Cluster Snapshot Event"
    assert (
        cluster["detail"]["SourceArn"] == f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:rds:orders-2026-12-01-03-05"
    )
    assert (cluster["detail"]["SourceType"], cluster["detail"]["EventID"]) == ("CLUSTER_SNAPSHOT", "RDS-EVENT-0169")
    assert [made[(c, False)]["detail"]["EventID"] for c in (False, True)] == ["RDS-EVENT-0042", "RDS-EVENT-0075"]
    with pytest.raises(ValueError, match="DB instance or cluster"):
        Snapshot(NIGHT, f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:x", "y")


def test_the_contracts_pattern_matches_each_created_snapshot_and_a_subset_only_its_own() -> None:
    made = four_events()
    assert all(matches(PATTERN, event) for event in made.values())
    automated_instances = {
        **PATTERN,
        "detail-type": ["RDS DB Snapshot Event"],
        "detail": {"EventID": ["RDS-EVENT-0091"]},
    }
    assert [key for key, event in made.items() if matches(automated_instances, event)] == [(False, True)]
    # Another source, another event of the snapshot, a field the event lacks: no match.
    assert not matches({**PATTERN, "source": ["aws.ec2"]}, made[(False, True)])
    creating = {**made[(False, True)], "detail": {**made[(False, True)]["detail"], "EventID": "RDS-EVENT-0090"}}
    assert not matches(PATTERN, creating)
    assert not matches({"detail": {"Missing": ["x"]}}, made[(False, True)])


def test_prefix_anything_but_exists_and_arrays_match_as_eventbridge_does() -> None:
    event = four_events()[(False, True)]
    assert matches({"resources": [{"prefix": f"arn:aws:rds:{REGION}:"}]}, event)  # any value of an array
    assert matches({"detail": {"SourceIdentifier": [{"prefix": "rds:shop-db-"}]}}, event)
    assert not matches({"detail": {"SourceIdentifier": [{"prefix": "rds:other-"}]}}, event)
    assert matches({"detail": {"EventID": [{"anything-but": ["RDS-EVENT-0090"]}]}}, event)
    assert not matches({"detail": {"EventID": [{"anything-but": "RDS-EVENT-0091"}]}}, event)
    assert not matches({"detail": {"SourceIdentifier": [{"anything-but": {"prefix": "rds:"}}]}}, event)
    assert matches({"detail": {"Tags": [{"exists": False}], "Message": [{"exists": True}]}}, event)
    assert not matches({"detail": {"Message": [{"exists": False}]}}, event)
    assert matches({"detail": {"EventCategories": ["creation"]}}, event)


@pytest.mark.parametrize(
    "pattern",
    [
        {"detail": {"EventID": [{"numeric": [">", 1]}]}},
        {"$or": [{"source": ["aws.rds"]}]},
        {"source": "aws.rds"},
        {"source": []},
    ],
)
def test_a_pattern_the_simulation_cannot_evaluate_is_refused(pattern: Mapping[str, Any]) -> None:
    with pytest.raises(ValueError):
        matches(pattern, four_events()[(False, True)])


def rule_stack(*, trusted_rule: str = "rule/*", wanted_event: str = "RDS-EVENT-0091") -> cdk.Stack:
    """A rule on the contract's pattern starting a state machine that succeeds only when its input
    names an automated snapshot's event, through a role EventBridge may assume from the account's
    rules matching ``trusted_rule``."""
    stack = cdk.Stack(cdk.App(), "Rules", env=ENV)
    ok, wrong = sfn.Succeed(stack, "Ok"), sfn.Fail(stack, "Wrong", error="WrongInput")
    check = (
        sfn.Choice(stack, "Check")
        .when(
            sfn.Condition.and_(
                sfn.Condition.string_equals("$.Event", wanted_event),
                sfn.Condition.string_matches("$.Snapshot", "arn:aws:rds:*:snapshot:rds:shop-db-*"),
                sfn.Condition.string_equals("$.Export.Quote", 'a "quoted" <text>'),
                sfn.Condition.string_equals("$.Time", "2026-12-01T03:05:00Z"),
            ),
            ok,
        )
        .otherwise(wrong)
    )
    machine = sfn.StateMachine(stack, "Run", definition_body=sfn.DefinitionBody.from_chainable(check))
    role = iam.Role(
        stack,
        "EventsRole",
        assumed_by=iam.ServicePrincipal(
            "events.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:events:{stack.region}:{stack.account}:{trusted_rule}"
                },
            },
        ),
    )
    rule = events.Rule(stack, "Snapshots", event_pattern=events.EventPattern(**_pattern_props()))
    rule.add_target(
        targets.SfnStateMachine(
            machine,
            role=role,
            input=events.RuleTargetInput.from_object(
                {
                    "Export": {"Service": "Rds", "Quote": 'a "quoted" <text>', "Sources": [DB]},
                    "Snapshot": events.EventField.from_path("$.detail.SourceArn"),
                    "Event": events.EventField.from_path("$.detail.EventID"),
                    "Time": events.EventField.time,
                }
            ),
        )
    )
    return stack


def _pattern_props() -> dict[str, Any]:
    return {"source": PATTERN["source"], "detail_type": PATTERN["detail-type"], "detail": PATTERN["detail"]}


def synthesized_rule(stack: cdk.Stack) -> tuple[Resolver, str, dict[str, Any]]:
    template = cdk.assertions.Template.from_stack(stack).to_json()
    (logical_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    resolver = Resolver(template, Pseudo("Rules", account=ACCOUNT, region=REGION, partition="aws"))
    return resolver, logical_id, template["Resources"][logical_id]["Properties"]


def test_the_input_transformer_makes_of_an_event_the_object_cdk_was_given() -> None:
    resolver, logical_id, props = synthesized_rule(rule_stack())
    assert props["EventPattern"] == PATTERN
    (target,) = resolver.resolve(props["Targets"])
    # CDK leaves string fields unquoted in the template: EventBridge quotes a string value there.
    assert '"Snapshot":<detail-SourceArn>' in target["InputTransformer"]["InputTemplate"]
    event = four_events()[(False, True)]
    rule_arn = resolver.get_att(logical_id, "Arn")
    assert rule_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{resolver.ref(logical_id)}"
    made = target_input(target, event, rule_arn=rule_arn, rule_name=resolver.ref(logical_id))
    assert made == {
        "Export": {"Service": "Rds", "Quote": 'a "quoted" <text>', "Sources": [DB]},
        "Snapshot": event["detail"]["SourceArn"],
        "Event": "RDS-EVENT-0091",
        "Time": "2026-12-01T03:05:00Z",
    }


def test_placeholders_inside_quotes_take_the_text_and_text_templates_the_raw_value() -> None:
    event = four_events()[(True, False)]
    paths = {"id": "$.detail.SourceIdentifier", "kinds": "$.detail.EventCategories", "none": "$.detail.Nothing"}
    made = transform(
        {
            "InputPathsMap": paths,
            "InputTemplate": '{"m": "<id> is \\"<kinds>\\"", "k": <kinds>, "n": <none>, "r": <aws.events.rule-name>}',
        },
        event,
        rule_arn="arn:aws:events:eu-west-1:111122223333:rule/r",
        rule_name="r",
    )
    assert json.loads(made) == {"m": 'before-upgrade is "["backup"]"', "k": ["backup"], "n": None, "r": "r"}
    text = transform({"InputPathsMap": paths, "InputTemplate": "<id> taken"}, event, rule_arn="", rule_name="")
    assert text == "before-upgrade taken"
    assert path_value(event, "$.resources[0]") == event["detail"]["SourceArn"]
    with pytest.raises(ValueError):
        path_value(event, "$..detail")


def test_a_snapshot_starts_the_rules_state_machine_with_its_input_and_eventbridges_role_authorized() -> None:
    instance, cluster = Snapshot.automated_of(DB, NIGHT), Snapshot.automated_of(CLUSTER, NIGHT)
    manual = Snapshot(NIGHT, DB, "before-upgrade", automated=False)
    result = simulate_snapshots(rule_stack(), start=NIGHT, snapshots=[instance, cluster, manual], authorize=True)
    assert result.problems == []
    # Every snapshot's event matches; only the automated instance snapshot's input satisfies the check.
    assert [arn for _, _, arn in result.deliveries] == [s.arn for s in (instance, cluster, manual)]
    assert all(rule.startswith("Rules-Snapshots") for _, rule, _ in result.deliveries)
    assert [r.status for r in result.runs] == ["SUCCEEDED", "FAILED", "FAILED"]
    assert result.runs[1].error == "WrongInput"
    assert "denied" in result.authorization and result.authorization.endswith(" 0 denied")


def test_a_role_eventbridge_may_not_assume_from_this_rule_starts_nothing_and_is_reported() -> None:
    stack = rule_stack(trusted_rule="rule/another-rule")
    result = simulate_snapshots(stack, start=NIGHT, snapshots=[Snapshot.automated_of(DB, NIGHT)], authorize=True)
    assert result.runs == []
    assert any("events.amazonaws.com sts:AssumeRole" in p for p in result.problems), result.problems


def test_duplicates_deliver_each_event_twice_and_a_disabled_rule_none() -> None:
    snapshot = Snapshot.automated_of(DB, NIGHT)
    twice = simulate_snapshots(rule_stack(), start=NIGHT, snapshots=[snapshot], duplicates=True)
    assert [(at - NIGHT).total_seconds() for at, _, _ in twice.deliveries] == [0.0, 3.0]
    assert [r.status for r in twice.runs] == ["SUCCEEDED", "SUCCEEDED"]
    stack = rule_stack()
    rule = stack.node.find_child("Snapshots").node.default_child
    assert isinstance(rule, events.CfnRule)
    rule.state = "DISABLED"
    assert simulate_snapshots(stack, start=NIGHT, snapshots=[snapshot]).runs == []
