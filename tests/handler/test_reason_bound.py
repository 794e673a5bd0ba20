"""Every failure the handler reports fits CloudFormation's response: at most 4,096 bytes of JSON,
of which the Provider framework adds ~1 KB around the message (its ``Logs:`` line and the Node
stack frames) besides the ids. The bound counts UTF-8 bytes once JSON-escaped, not characters."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from export_constructs.handler import entry
from export_constructs.handler.adapters.base import MAX_REASON_BYTES, json_size, shorten


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "é" * 5_000,  # 2 bytes each in UTF-8
        "日本語の理由" * 1_000,  # 3 bytes each
        '"quoted" \\ and\nnew lines\t' * 400,  # escaped: 2 bytes each for ", \\, newline and tab
        "\x01" * 3_000,  # a control character is escaped as \\u0001: 6 bytes
        "😀" * 2_000,  # 4 bytes, and one code point: never cut in half
    ],
)
def test_shorten_bounds_the_json_escaped_utf8_bytes(text: str) -> None:
    short = shorten(text, MAX_REASON_BYTES)
    assert short.endswith("...") and text.startswith(short[:-3])
    size = len(json.dumps(short, ensure_ascii=False).encode())  # what JSON.stringify + byteLength count
    assert size - 2 == json_size(short) <= MAX_REASON_BYTES
    assert json_size(short) > MAX_REASON_BYTES - 7  # cut at the bound, not far below it


def test_shorten_keeps_a_text_that_fits() -> None:
    text = "é" * (MAX_REASON_BYTES // 2)
    assert shorten(text, MAX_REASON_BYTES) is text
    assert shorten(text + "é", MAX_REASON_BYTES) != text + "é"


class Boom(Exception):
    pass


def failing(message: str) -> Any:
    def run(event: Mapping[str, Any]) -> dict[str, Any]:
        raise Boom(message)

    return run


@pytest.mark.parametrize("entry_point", ["on_event", "is_complete"])
def test_an_entry_points_long_failure_is_cut_and_logged_whole(
    entry_point: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reason = "The service's reason: " + "ü" * 5_000 + " END"
    monkeypatch.setattr(entry._ENGINE, entry_point, failing(reason))
    with caplog.at_level(logging.ERROR, logger="export_constructs"), pytest.raises(entry.ReasonShortened) as raised:
        getattr(entry, entry_point)({"RequestType": "Create"}, None)
    message = str(raised.value)
    assert message.startswith("The service's reason: üüü") and message.endswith("...")
    assert json_size(message) <= MAX_REASON_BYTES
    assert isinstance(raised.value.__cause__, Boom)
    assert reason in caplog.text  # the whole text, in the function's log


def test_a_failure_that_fits_is_raised_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry._ENGINE, "on_event", failing("Personalize job failed: bucket denied"))
    with pytest.raises(Boom, match=r"^Personalize job failed: bucket denied$"):
        entry.on_event({"RequestType": "Create"}, None)
