"""The end of ``make synth``: without AWS credentials, simulate the sample app's export jobs
offline (``export_constructs.testing``) and print their lifecycle; with credentials, say how
to deploy instead."""

from __future__ import annotations

import os
import sys


def has_credentials() -> bool:
    """Whether botocore's default chain finds credentials (instance metadata is not asked:
    that would stall for seconds on machines outside AWS)."""
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from botocore.session import get_session

    try:
        return get_session().get_credentials() is not None
    except Exception:  # a broken profile is no credentials for this purpose
        return False


def main() -> int:
    assembly = sys.argv[1] if len(sys.argv) > 1 else "cdk.out"
    if has_credentials():
        print(
            "AWS credentials found: deploy the sample with `npx cdk deploy --app '.venv/bin/python -m sample_app.app'` "
            "(or `npx cdk deploy` with this repo's cdk.json). Simulate it offline instead with "
            f"`.venv/bin/python -m export_constructs.testing {assembly}`."
        )
        return 0
    print("No AWS credentials: simulating the sample app's export jobs against local fake services.")
    # make synth installs the IAM evaluator (npm ci): every request is authorized as well.
    os.environ.setdefault("EXPORT_CONSTRUCTS_AUTHORIZE", "1")
    from export_constructs.testing.__main__ import main as simulate_main

    return simulate_main([assembly])


if __name__ == "__main__":
    sys.exit(main())
