"""The AWS clients and repositories a handler needs, built once per Lambda container (or per local server).

boto3 honours ``AWS_ENDPOINT_URL``, which is how the local server points everything at moto. Every client uses
botocore's standard retry mode (``transient.RETRY_CONFIG``): throttles and 5xx are retried with backoff before any
handler sees them. The S3 client keeps a connection for each request one process sends at once (``S3_CONNECTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config

from functions.service.artifacts import ArtifactStore
from functions.service.audit_log import AuditLog
from functions.service.directory import Directory
from functions.service.job_shares import JobShares
from functions.service.jobs import JobRepository
from functions.service.metering import Metering
from functions.service.quotas import QuotaGuard
from functions.service.settings import Settings
from functions.service.tenant_keys import TenantKeys
from functions.service.transient import RETRY_CONFIG

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

Repository = TypeVar("Repository")

# The most S3 requests one process sends at once: compose's parts (artifacts.COMPOSE_THREADS) and the decoy cache's
# read-ahead (decoy_cache.CACHE_READ_THREADS; a test holds both under it). botocore keeps 10 connections by default:
# a request past those opens one and throws it away, a new TLS handshake every time.
S3_CONNECTIONS = 32


def s3_client(session: boto3.session.Session) -> S3Client:
    """The service's S3 client: standard retries, and a pooled connection for each request sent at once."""
    return session.client("s3", config=RETRY_CONFIG.merge(Config(max_pool_connections=S3_CONNECTIONS)))


def _on_main_table(repository: Callable[[Table], Repository]) -> cached_property[Repository]:
    """A repository over the deployment's main table (every one but the audit log): built on first use, then kept."""

    def build(ctx: ServiceContext) -> Repository:
        return repository(ctx.dynamodb.Table(ctx.settings.table))

    return cached_property(build)


@dataclass
class ServiceContext:
    settings: Settings
    session: boto3.session.Session = field(default_factory=boto3.session.Session)

    @cached_property
    def s3(self) -> S3Client:
        return s3_client(self.session)

    @cached_property
    def kms(self) -> KMSClient:
        return self.session.client("kms", config=RETRY_CONFIG)

    @cached_property
    def sfn(self) -> SFNClient:
        return self.session.client("stepfunctions", config=RETRY_CONFIG)

    @cached_property
    def events(self) -> EventBridgeClient:
        return self.session.client("events", config=RETRY_CONFIG)

    @cached_property
    def dynamodb(self) -> DynamoDBServiceResource:
        return self.session.resource("dynamodb", config=RETRY_CONFIG)

    @cached_property
    def keys(self) -> TenantKeys:
        return TenantKeys(self.kms, self.settings.kms_alias_prefix)

    jobs = _on_main_table(JobRepository)
    shares = _on_main_table(JobShares)
    quotas = _on_main_table(QuotaGuard)
    directory = _on_main_table(Directory)
    metering = _on_main_table(Metering)

    @cached_property
    def audit(self) -> AuditLog:
        """The audit log; its table is the deployment's own (the functions' role may only append to it)."""
        return AuditLog(self.dynamodb.Table(self.settings.audit_table))

    def store(self, org: str) -> ArtifactStore:
        """The artifact store of one org, writing under that org's data key."""
        return ArtifactStore(self.s3, self.settings.bucket, org, self.keys.keys_of(org).data_key_arn)


_current: ServiceContext | None = None


def service_context() -> ServiceContext:
    """The process-wide context, created from the environment on first use."""
    global _current  # noqa: PLW0603 - one context per Lambda container is the point
    if _current is None:
        _current = ServiceContext(Settings.from_env())
    return _current


def reset_service_context(context: ServiceContext | None = None) -> None:
    """Drop (or replace) the cached context: tests and the local server call this after changing the environment."""
    global _current  # noqa: PLW0603
    _current = context
