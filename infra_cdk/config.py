"""Customer deployment configs: one small JSON (or TOML) file per customer region in ``deploy/customers/``.

A config that cannot be deployed is refused at synth time with one message naming the file and the field,
so an operator never finds out from a half-created CloudFormation stack.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from functions.service.errors import InvalidIdentifierError
from functions.service.ids import checked_id
from functions.service.settings import DEFAULT_ANCHOR_EVERY
from infra_cdk.errors import CustomerConfigError
from infra_cdk.plans import PLANS, UNRESERVED_FLOOR, PlanLimits, PlanName

__all__ = [
    "CONFIG_SUFFIXES",
    "CustomerConfig",
    "CustomerConfigError",  # re-exported from infra_cdk.errors, where it lives
    "OidcConfig",
    "TenantConfig",
    "load_customer_config",
    "load_customer_configs",
]

CONFIG_SUFFIXES: Final = (".json", ".toml")

_CUSTOMER = re.compile(r"[a-z][a-z0-9-]{1,30}[a-z0-9]")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}")
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}")
_EVENT_BUS = re.compile(r"arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._/-]{1,256}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# The customer's scalar fields and what each must look like (one validator checks all three).
_SCALAR_PATTERNS: Final = {
    "customer": (_CUSTOMER, "3-32 lowercase letters, digits or dashes starting with a letter"),
    "account": (_ACCOUNT, "a 12-digit AWS account id in quotes"),
    "region": (_REGION, "an AWS region code such as 'eu-central-1'"),
}
_AZ = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}[a-z]")


def _https(value: str, what: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://") or any(c.isspace() for c in value):
        raise ValueError(f"{what} must be an https:// URL, got {value!r}")
    return value


class OidcConfig(BaseModel):
    """The customer's identity provider; the API accepts only its tokens, for this audience."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    issuer: str
    audience: Annotated[str, Field(min_length=1, max_length=256)]
    jwks_url: str | None = None
    # The claim listing the user's IdP groups (tenants' group_roles map them to org roles).
    group_claim: Annotated[str, Field(min_length=1, max_length=128)] = "cognito:groups"

    @field_validator("issuer")
    @classmethod
    def _issuer_is_https(cls, value: str) -> str:
        return _https(value, "issuer")

    @field_validator("jwks_url")
    @classmethod
    def _jwks_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value, "jwks_url")

    @property
    def resolved_jwks_url(self) -> str:
        """The JWKS document; OIDC discovery's usual place unless the config names another."""
        return self.jwks_url or f"{self.issuer.rstrip('/')}/.well-known/jwks.json"


class SamlConfig(BaseModel):
    """SAML 2.0 sign-in: a Cognito user pool with the customer's IdP as its SAML provider (infra_cdk/sso.py).

    The IdP sends the user's org and groups as SAML attributes; the pool keeps them as ``custom:org`` and
    ``custom:groups``, which the API reads from the pool's ID tokens. Metadata comes from a URL (kept fresh by
    Cognito) or a file next to this config (``metadata_file``, read at synth).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    provider_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{3,32}$")]
    metadata_url: str | None = None
    metadata_file: str | None = None
    domain_prefix: Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    org_attribute: Annotated[str, Field(min_length=1, max_length=256)]
    groups_attribute: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    email_attribute: Annotated[str, Field(min_length=1, max_length=256)] = (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    )
    # Where the hosted sign-in may return to, besides the web dashboard this stack serves.
    callback_urls: tuple[str, ...] = ()

    @field_validator("metadata_url")
    @classmethod
    def _metadata_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value, "metadata_url")

    @field_validator("callback_urls")
    @classmethod
    def _callbacks_are_https(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_https(url, "callback_urls") for url in value)

    @model_validator(mode="after")
    def _one_metadata_source(self) -> SamlConfig:
        if (self.metadata_url is None) == (self.metadata_file is None):
            raise ValueError("name exactly one of metadata_url and metadata_file")
        if self.metadata_file is not None and (Path(self.metadata_file).is_absolute() or ".." in self.metadata_file):
            raise ValueError("metadata_file is a file name next to the config, not a path elsewhere")
        return self


class TenantConfig(BaseModel):
    """One org (tenant) in a customer deployment: its plan, how long its data lives, who may drop files."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    org: str
    plan: PlanName
    retention_days: Annotated[int, Field(ge=1, le=3650)]
    drop_folder_principals: tuple[str, ...] = ()
    # Asymmetric KMS keys do not rotate; raising this creates a new signing key behind the same alias.
    signing_key_version: Annotated[int, Field(ge=1, le=99)] = 1
    # The SIEM export: the org's audit events also go to this event bus of the customer's (a rule per org), and
    # these IAM roles or users may read the org's OCSF export prefix (the org's key decrypts it, through S3 only).
    siem_event_bus_arn: str | None = None
    siem_readers: tuple[str, ...] = ()
    # SSO: an IdP group (from the token's group claim) → an org role in this org, and only in this org.
    group_roles: dict[Annotated[str, Field(min_length=1, max_length=256)], Literal["org_admin", "member"]] = Field(
        default_factory=dict
    )

    @field_validator("org")
    @classmethod
    def _org_is_an_id(cls, value: str) -> str:
        try:
            return checked_id(value, "org")
        except InvalidIdentifierError as error:
            raise ValueError(str(error)) from None

    @field_validator("drop_folder_principals", "siem_readers")
    @classmethod
    def _principals_are_roles_or_users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for principal in value:
            if not _PRINCIPAL.fullmatch(principal):
                raise ValueError(
                    f"{principal!r} is not an IAM role or user ARN (arn:aws:iam::<12 digits>:role/NAME); "
                    "an account root or a wildcard would open the drop folder to everyone in that account"
                )
        if len(set(value)) != len(value):
            raise ValueError("lists the same principal twice")
        return value

    @field_validator("siem_event_bus_arn")
    @classmethod
    def _bus_is_an_arn(cls, value: str | None) -> str | None:
        if value is not None and not _EVENT_BUS.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an EventBridge event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"
            )
        return value

    @property
    def limits(self) -> PlanLimits:
        return PLANS[self.plan]


class CustomerConfig(BaseModel):
    """One customer region: everything the stack needs that differs between customers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    customer: str
    account: str
    region: str
    oidc: OidcConfig
    saml: SamlConfig | None = None
    tenants: Annotated[tuple[TenantConfig, ...], Field(min_length=1)]
    alarm_emails: tuple[str, ...] = ()
    vpc_cidr: str = "10.80.0.0/16"
    availability_zones: tuple[str, ...] | None = None
    lambda_concurrency_limit: Annotated[int, Field(ge=UNRESERVED_FLOOR + 10)] = 1000
    # Jobs running at once over every tenant; a start beyond it (or its org's plan limit) waits in the job queue,
    # paid plans first. Default: the sum of the tenants' plan limits, so only each org's own limit binds.
    max_running_jobs: Annotated[int, Field(ge=1)] | None = None
    # How long each signed audit-chain head stays locked (S3 Object Lock, COMPLIANCE mode): nobody can delete it.
    audit_anchor_retention_days: Annotated[int, Field(ge=1, le=36500)] = 2555
    # The audit stream also anchors every N-th event of an org at once (and the hourly run the head).
    audit_anchor_every: Annotated[int, Field(ge=1, le=100_000)] = DEFAULT_ANCHOR_EVERY
    source: Annotated[Path, Field(exclude=True)] = Path()

    @field_validator("customer", "account", "region")
    @classmethod
    def _matches_its_pattern(cls, value: str, info: ValidationInfo) -> str:
        pattern, expected = _SCALAR_PATTERNS[str(info.field_name)]
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {expected}, got {value!r}")
        return value

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for email in value:
            if not _EMAIL.fullmatch(email):
                raise ValueError(f"{email!r} is not an email address")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IPv4 network in CIDR form ({error})") from None
        if network.version != 4 or not 16 <= network.prefixlen <= 22:
            raise ValueError(f"must be an IPv4 network from /16 to /22, got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CustomerConfig:
        orgs = [tenant.org for tenant in self.tenants]
        duplicates = sorted({org for org in orgs if orgs.count(org) > 1})
        if duplicates:
            raise ValueError(f"tenants: org {duplicates[0]!r} is listed twice")
        if self.availability_zones is not None:
            zones = self.availability_zones
            if not 2 <= len(zones) <= 3 or len(set(zones)) != len(zones):
                raise ValueError("availability_zones: name 2 or 3 different zones")
            for zone in zones:
                if not _AZ.fullmatch(zone) or not zone.startswith(self.region):
                    raise ValueError(f"availability_zones: {zone!r} is not a zone of {self.region}")
        reserved = self.chunk_concurrency
        available = self.lambda_concurrency_limit - UNRESERVED_FLOOR
        if reserved > available:
            raise ValueError(
                f"tenants: the plans reserve {reserved} concurrent chunk workers but lambda_concurrency_limit "
                f"{self.lambda_concurrency_limit} leaves only {available} (ask AWS for a higher quota and set it)"
            )
        return self

    @property
    def group_roles(self) -> dict[str, dict[str, str]]:
        """``{org: {group: role}}`` for the API (``HETERO2_GROUP_ROLES``); orgs without a mapping are left out."""
        return {tenant.org: dict(tenant.group_roles) for tenant in self.tenants if tenant.group_roles}

    @property
    def saml_metadata(self) -> str | None:
        """The SAML metadata document when the config names a file (read here, at synth), else None."""
        if self.saml is None or self.saml.metadata_file is None:
            return None
        path = self.source.parent / self.saml.metadata_file
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CustomerConfigError(self.source, "saml.metadata_file", f"cannot read {path} ({error})") from None

    @property
    def stack_name(self) -> str:
        return f"Hetero2-{self.customer}-{self.region}"

    @property
    def zones(self) -> tuple[str, ...]:
        """Zone names are given, never looked up, so synth needs no AWS account."""
        return self.availability_zones or (f"{self.region}a", f"{self.region}b")

    @property
    def chunk_concurrency(self) -> int:
        """Reserved concurrency of the chunk worker: what the tenants' plans pay for together."""
        return sum(tenant.limits.chunk_concurrency for tenant in self.tenants)

    @property
    def running_jobs_cap(self) -> int:
        """The deployment's cap on running jobs (``HETERO2_MAX_RUNNING_JOBS``)."""
        return self.max_running_jobs or sum(tenant.limits.concurrent_jobs for tenant in self.tenants)

    @property
    def orgs(self) -> tuple[str, ...]:
        return tuple(tenant.org for tenant in self.tenants)


def _field_path(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CustomerConfigError(path, None, "is not UTF-8 text") from None
    except OSError as error:
        raise CustomerConfigError(path, None, f"cannot be read ({error.strerror})") from None
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise CustomerConfigError(path, None, f"is not valid TOML ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CustomerConfigError(path, None, f"is not valid JSON ({error.msg})", line=error.lineno) from None


def load_customer_config(path: Path) -> CustomerConfig:
    """Parse and check one config file."""
    data = _read(path)
    if not isinstance(data, dict):
        raise CustomerConfigError(path, None, "must hold one object (the customer deployment)")
    try:
        config = CustomerConfig.model_validate(_as_tuples(data))
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        field, _, rest = message.partition(": ")
        if not first["loc"] and rest and re.fullmatch(r"[a-z_]+", field):
            raise CustomerConfigError(path, field, rest) from None
        raise CustomerConfigError(path, _field_path(first["loc"]) or None, message) from None
    return config.model_copy(update={"source": path})


def _as_tuples(value: Any) -> Any:
    """JSON arrays as tuples, so the strict frozen models accept them."""
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    return value


def load_customer_configs(folder: Path) -> tuple[CustomerConfig, ...]:
    """Every config in ``folder`` (sorted by file name); two files for one customer region is an error."""
    if not folder.is_dir():
        raise CustomerConfigError(folder, None, "is not a folder of customer configs")
    paths = sorted(path for path in folder.iterdir() if path.suffix in CONFIG_SUFFIXES and path.is_file())
    if not paths:
        raise CustomerConfigError(folder, None, f"holds no customer config ({', '.join(CONFIG_SUFFIXES)} files)")
    configs: list[CustomerConfig] = []
    seen: dict[str, Path] = {}
    for path in paths:
        config = load_customer_config(path)
        if config.stack_name in seen:
            raise CustomerConfigError(
                path,
                "customer",
                f"{config.customer} in {config.region} is already deployed by {seen[config.stack_name]}",
            )
        seen[config.stack_name] = path
        configs.append(config)
    return tuple(configs)
