"""The Lambda code asset: the export-job engine and one adapter per service.

Nothing in this package imports aws-cdk-lib: it runs in Lambda with only the runtime's boto3.
"""
