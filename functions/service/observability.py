"""One Logger and one Metrics object for the whole service (Powertools), so every log line carries the same
keys and every metric lands in the same namespace."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "hetero2")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Hetero2")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
