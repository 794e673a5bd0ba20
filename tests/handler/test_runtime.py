"""The handler as Lambda runs it: its own package, boto3 only, retries by botocore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import export_constructs
from export_constructs.handler import clients, consts

PACKAGE_DIR = Path(export_constructs.__file__).resolve().parent


def test_handler_imports_without_cdk_as_the_lambda_asset_does() -> None:
    """The asset root is the package folder; aws_cdk, constructs and jsii are not there."""
    code = (
        "import sys; sys.modules.update(aws_cdk=None, constructs=None, jsii=None, export_constructs=None);"
        f"sys.path.insert(0, {str(PACKAGE_DIR)!r});"
        "import importlib;"
        f"entry = importlib.import_module({consts.ON_EVENT_ENTRY.rsplit('.', 1)[0]!r});"
        "assert callable(entry.on_event) and callable(entry.is_complete);"
        "import handler.adapters.personalize"
    )
    subprocess.run([sys.executable, "-I", "-c", code], check=True, cwd="/")


def test_clients_retry_throttling_and_5xx_in_botocore() -> None:
    config = clients.botocore_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 8}
    assert config.connect_timeout == 5 and config.read_timeout == 30
