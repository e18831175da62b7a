"""HETERO-2 service: the Lambda handlers and the service layer they share (S3, KMS, DynamoDB, Step Functions).

The engine lives in ``hetero_core`` and knows nothing of AWS; this package adapts it to the cloud.
"""
