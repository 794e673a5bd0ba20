"""ExportDestination for a bucket (and key) of another account, the source side of a central
archive: the jobs' own grants, the owner the handler confirms, what the archive's policies must hold
(printed once per resource, or an ExportArchive of the app named), and what is refused at synth."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from export_constructs import (
    ArchiveSource,
    CloudWatchLogsExport,
    CloudWatchLogsExportJob,
    ExportArchive,
    ExportDestination,
    PersonalizeDatasetExportJob,
    RdsSnapshotExport,
    RdsSnapshotExportJob,
)
from export_constructs._pasteable import pasteable_json
from export_constructs.archive import archive_statements
from export_constructs.handler import consts

from .conftest import handler_statements, nag_findings, resources_of

ARCHIVE, SOURCE, THIRD = "222233334444", "111122223333", "999988887777"
REGION = "eu-west-1"
BUCKET = "org-export-archive"
KEY = f"arn:aws:kms:{REGION}:{ARCHIVE}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOGS_SOURCE = ArchiveSource(account=SOURCE, region=REGION, services=("logs",), prefix="logs/111122223333/")
RDS_SOURCE = ArchiveSource(account=SOURCE, region=REGION, services=("rds",), prefix="rds/111122223333/")


def _destination(stack: cdk.Stack, *, bucket_region: str = REGION, key_arn: str | None = KEY) -> ExportDestination:
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "ArchiveBucket", bucket_name=BUCKET, account=ARCHIVE, region=bucket_region
    )
    key = kms.Key.from_key_arn(stack, "ArchiveKey", key_arn) if key_arn else None
    return ExportDestination(stack, "Archive", bucket=bucket, encryption_key=key)


def _source_app(archive_sources: list[ArchiveSource] | None) -> tuple[cdk.App, cdk.Stack]:
    """A source stack exporting logs (nightly and once) and RDS snapshots (each new one and once)
    into the archive; with ``archive_sources``, the archive's stack in the same app."""
    app = cdk.App()
    if archive_sources is not None:
        archive = cdk.Stack(app, "ArchiveStack", env=cdk.Environment(account=ARCHIVE, region=REGION))
        ExportArchive(archive, "Archive", bucket_name=BUCKET, sources=archive_sources)
    stack = cdk.Stack(app, "Source", env=cdk.Environment(account=SOURCE, region=REGION))
    destination = _destination(stack)
    CloudWatchLogsExport(
        stack,
        "Nightly",
        log_groups=["/app/orders"],
        destination=destination,
        prefix="logs/111122223333/{log_group}/{yyyy}/{MM}/{dd}/",
    )
    _one_shot_logs(stack, destination)
    RdsSnapshotExport(
        stack,
        "Snapshots",
        sources=[f"arn:aws:rds:{REGION}:{SOURCE}:db:orders"],
        destination=destination,
        prefix="rds/111122223333/{source}/{snapshot}/",
    )
    RdsSnapshotExportJob(
        stack,
        "OneSnapshot",
        source_arn=f"arn:aws:rds:{REGION}:{SOURCE}:snapshot:rds:orders-2026-12-01",
        destination=destination,
        prefix="rds/111122223333/once/",
    )
    return app, stack


def _messages(stack: cdk.Stack, find: Any) -> list[tuple[str, str]]:
    return [(m.id, str(m.entry.data)) for m in find("*", Match.any_value())]


@pytest.fixture(scope="module")
def alone() -> tuple[cdk.App, cdk.Stack, dict[str, Any]]:
    app, stack = _source_app(None)
    return app, stack, dict(Template.from_stack(stack).to_json())


def _pasted(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text[text.index("\n{") : text.rindex("}") + 1])
    return document


def test_the_archives_policies_are_printed_once_per_resource_on_the_first_job(
    alone: tuple[cdk.App, cdk.Stack, dict[str, Any]],
) -> None:
    _, stack, _ = alone
    warnings = _messages(stack, Annotations.from_stack(stack).find_warning)
    archive = [(path, text) for path, text in warnings if "export-constructs:archive-" in text]
    assert [path for path, _ in archive] == ["/Source/Nightly", "/Source/Nightly"]
    bucket_text, key_text = (text for _, text in archive)
    assert bucket_text.rstrip().endswith("[ack: export-constructs:archive-bucket-policy]")
    assert key_text.rstrip().endswith("[ack: export-constructs:archive-key-policy]")
    for text in (bucket_text, key_text):
        for job in ("Source/Nightly", "Source/Once", "Source/Snapshots", "Source/OneSnapshot"):
            assert job in text
        # The ArchiveSources that would grant the same, for the archive's owner to list.
        assert repr(LOGS_SOURCE) in text.replace("\n", " ") and repr(RDS_SOURCE) in text.replace("\n", " ")
    # No warning about the imported bucket's or key's policy of this account: there is none to change.
    assert not [t for _, t in warnings if "imported-bucket-policy" in t or "imported-key-policy" in t]
    # What is printed is what an ExportArchive with those sources writes, concrete (nothing to fill in).
    bucket = s3.Bucket.from_bucket_attributes(
        cdk.Stack(cdk.App(), "Other", env=cdk.Environment(account=SOURCE, region=REGION)),
        "B",
        bucket_name=BUCKET,
        account=ARCHIVE,
    )
    expected_bucket: list[Any] = []
    expected_key: list[Any] = []
    for source in (LOGS_SOURCE, RDS_SOURCE):
        on_bucket, on_key = archive_statements(bucket, source)
        expected_bucket += [s.to_statement_json() for s in on_bucket]
        expected_key += [s.to_statement_json() for s in on_key]
    printed_bucket = _pasted(bucket_text)["Statement"]
    assert "<" not in json.dumps(printed_bucket)  # no placeholder: the stack's account and Region are known
    # Each once: both sources' GetBucketLocation for the account is one statement.
    expected = json.loads(pasteable_json(cdk.Stack.of(bucket), expected_bucket))
    assert len(expected) == 7 and len(printed_bucket) == 6
    assert printed_bucket == [s for i, s in enumerate(expected) if s not in expected[:i]]
    # The key statements hold no bucket: pasteable as the destination prints them.
    assert _pasted(key_text)["Statement"] == json.loads(pasteable_json(cdk.Stack.of(bucket), expected_key))


def test_the_handler_confirms_the_owner_and_may_ask_s3_for_it(alone: tuple[cdk.App, cdk.Stack, dict[str, Any]]) -> None:
    _, _, template = alone
    one_shots = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"].startswith("Custom::ExportJob-") and consts.PROP_REQUEST in r["Properties"]
    ]
    assert len(one_shots) == 2
    assert all(p[consts.PROP_BUCKET_OWNER] == ARCHIVE for p in one_shots)
    # The schedule's and the snapshot rule's run input (joined with tokens) name the owner too.
    owner = f'\\"{consts.PROP_BUCKET_OWNER}\\":\\"{ARCHIVE}\\"'
    schedules = resources_of(template, "AWS::Scheduler::Schedule").values()
    assert [owner in json.dumps(r["Properties"]["Target"]["Input"]) for r in schedules] == [True]
    rules = resources_of(template, "AWS::Events::Rule").values()
    templates = [json.dumps(t["InputTransformer"]["InputTemplate"]) for r in rules for t in r["Properties"]["Targets"]]
    assert templates and all(owner in t for t in templates)

    def asks_location(statements: Sequence[Mapping[str, Any]]) -> bool:
        return any(s["Action"] == "s3:GetBucketLocation" and BUCKET in json.dumps(s["Resource"]) for s in statements)

    assert asks_location(handler_statements(template))
    runner = [
        s
        for k, r in template["Resources"].items()
        if k.startswith("ExportJobProviderRunnerRole") and r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert asks_location(runner)


def test_an_export_archive_of_the_app_that_grants_it_all_is_named_instead() -> None:
    _, stack = _source_app([LOGS_SOURCE, RDS_SOURCE])
    annotations = Annotations.from_stack(stack)
    assert not [t for _, t in _messages(stack, annotations.find_warning) if "archive-" in t]
    assert _messages(stack, annotations.find_error) == []
    (info,) = [t for _, t in _messages(stack, annotations.find_info) if "ExportArchive" in t]
    assert "ArchiveStack/Archive" in info and ARCHIVE in info and "Source/Snapshots" in info


def test_an_export_archive_of_the_app_that_misses_a_service_is_an_error_naming_it() -> None:
    _, stack = _source_app([LOGS_SOURCE])
    (error,) = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_error)]
    assert error.startswith("Source/Archive: the ExportArchive ArchiveStack/Archive does not let account 111122223333")
    # Only the jobs of the service missing are named.
    assert "write what Source/Snapshots, Source/OneSnapshot export" in error and "Source/Nightly" not in error
    assert repr(RDS_SOURCE) in error and repr(LOGS_SOURCE) not in error


def test_the_source_stack_passes_the_nag_packs(alone: tuple[cdk.App, cdk.Stack, dict[str, Any]]) -> None:
    app, stack, _ = alone
    assert nag_findings(app, stack) == {}


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S", env=cdk.Environment(account=SOURCE, region=REGION))


def test_a_bucket_of_another_region_is_refused_naming_destination() -> None:
    stack = _stack()
    destination = _destination(stack, bucket_region="us-east-1")
    with pytest.raises(ValueError) as raised:
        CloudWatchLogsExportJob(stack, "Once", log_group="/app/orders", destination=destination, prefix="logs/x/")
    message = str(raised.value)
    assert message.startswith("S/Once: invalid props:\n") and "  - destination: " in message, message
    assert "us-east-1" in message and REGION in message
    with pytest.raises(ValueError, match=r"(?s)S/Nightly: invalid props:.*  - destination: .*us-east-1"):
        CloudWatchLogsExport(
            stack, "Nightly", log_groups=["/app/orders"], destination=destination, prefix="l/{log_group}/"
        )


def test_a_service_whose_guide_documents_no_bucket_of_another_account_is_refused() -> None:
    stack = _stack()
    with pytest.raises(ValueError) as raised:
        PersonalizeDatasetExportJob(
            stack,
            "Dump",
            dataset_arn=f"arn:aws:personalize:{REGION}:{SOURCE}:dataset/shop/INTERACTIONS",
            destination=_destination(stack),
        )
    message = str(raised.value)
    assert "  - destination: is a bucket of another account (222233334444)" in message, message


def test_a_key_of_a_third_account_is_refused_naming_encryption_key() -> None:
    stack = _stack()
    with pytest.raises(ValueError) as raised:
        _destination(stack, key_arn=KEY.replace(ARCHIVE, THIRD))
    message = str(raised.value)
    assert message.startswith("S/Archive: invalid props:\n"), message
    assert f"  - encryption_key: must be a key of the bucket's account {ARCHIVE}, got one of {THIRD}" in message


def test_prefixes_with_no_common_folder_are_an_error_at_synth() -> None:
    stack = _stack()
    destination = _destination(stack)
    for name, prefix in (("A", "one/"), ("B", "two/")):
        CloudWatchLogsExportJob(
            stack, name, log_group="/app/orders", destination=destination, prefix=prefix, window=cdk.Duration.days(1)
        )
    (error,) = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_error)]
    assert "the logs exports S/A, S/B write under prefixes with no common folder (one/, two/)" in error
    assert "give their prefix props one folder such as 'logs/<account>/'" in error


def test_a_bucket_of_this_account_keeps_the_imported_bucket_warnings_and_no_owner_check() -> None:
    stack = _stack()
    bucket = s3.Bucket.from_bucket_attributes(stack, "Mine", bucket_name="mine", account=SOURCE, region=REGION)
    destination = ExportDestination(stack, "Dest", bucket=bucket)
    assert destination.archive_account is None
    CloudWatchLogsExportJob(
        stack, "Once", log_group="/app/orders", destination=destination, prefix="logs/", window=cdk.Duration.days(1)
    )
    template = Template.from_stack(stack).to_json()
    assert consts.PROP_BUCKET_OWNER not in json.dumps(template)
    texts = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_warning)]
    assert any("imported-bucket-policy" in t for t in texts) and not any("archive-" in t for t in texts)


def test_a_stack_with_an_account_but_no_region_takes_the_buckets_region() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account=SOURCE))
    _one_shot_logs(stack, _destination(stack))
    (warning, _key) = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_warning) if "archive-" in t]
    assert f"region='{REGION}'" in warning.replace("\n", " ") and "Token" not in warning
    unknown = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account=SOURCE))
    imported = s3.Bucket.from_bucket_attributes(unknown, "B", bucket_name=BUCKET, account=ARCHIVE)
    with pytest.raises(ValueError, match=r"(?s)S/Archive: invalid props:.*  - bucket: is a bucket of another account"):
        ExportDestination(unknown, "Archive", bucket=imported)


def test_an_environment_agnostic_stack_is_warned_that_nothing_is_checked() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    imported = s3.Bucket.from_bucket_attributes(stack, "B", bucket_name=BUCKET, account=ARCHIVE, region=REGION)
    destination = ExportDestination(stack, "Archive", bucket=imported)
    assert destination.archive_account is None
    (warning,) = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_warning)]
    assert f"imported as one of account {ARCHIVE}, but this stack's account is unknown" in warning
    assert warning.rstrip().endswith("[ack: export-constructs:archive-account-unknown]")


def test_an_export_archive_of_that_account_without_the_buckets_name_is_pointed_at() -> None:
    app = cdk.App()
    archive = cdk.Stack(app, "ArchiveStack", env=cdk.Environment(account=ARCHIVE, region=REGION))
    ExportArchive(archive, "Archive", sources=[LOGS_SOURCE])
    stack = cdk.Stack(app, "S", env=cdk.Environment(account=SOURCE, region=REGION))
    _one_shot_logs(stack, _destination(stack))
    texts = [t for _, t in _messages(stack, Annotations.from_stack(stack).find_warning) if "archive-bucket" in t]
    assert len(texts) == 1
    assert "the ExportArchive ArchiveStack/Archive of that account has no bucket_name" in " ".join(texts[0].split())


def _one_shot_logs(stack: cdk.Stack, destination: ExportDestination) -> None:
    CloudWatchLogsExportJob(
        stack,
        "Once",
        log_group="/app/orders",
        destination=destination,
        prefix="logs/111122223333/once/",
        window=cdk.Duration.days(1),
    )
