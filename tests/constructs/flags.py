"""aws-cdk-lib's currently recommended feature flags, read from the installed library itself
(``cx-api/lib/features.js`` in its jsii bundle: ``CURRENTLY_RECOMMENDED_FLAGS``)."""

from __future__ import annotations

import functools
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk

_MEMBERS = ("package/cx-api/lib/features.js", "package/cx-api/lib/private/flag-modeling.js")


@functools.cache
def recommended_flags() -> dict[str, Any]:
    (bundle,) = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(bundle) as tgz:
        for member in _MEMBERS:
            tgz.extract(member, tmp, filter="data")
        features = json.dumps(str(Path(tmp) / _MEMBERS[0]))
        script = f"console.log(JSON.stringify(require({features}).CURRENTLY_RECOMMENDED_FLAGS))"
        out = subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True).stdout
    flags: dict[str, Any] = json.loads(out)
    return flags
