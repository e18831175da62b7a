"""The environment variables the functions read, spelled once.

:mod:`functions.service.settings` (and the API's auth, the authorizer, the Fargate task) read them; the CDK app
sets them (``infra_cdk/contract.py`` re-exports this module as ``contract.env``). Light on purpose: importing it
loads nothing but the standard library, so the CDK app can import it without boto3 or the engine.
"""

from __future__ import annotations

from typing import Final

# Every function (functions/service/settings.py)
BUCKET: Final = "HETERO2_BUCKET"
TABLE: Final = "HETERO2_TABLE"
AUDIT_TABLE: Final = "HETERO2_AUDIT_TABLE"
IDEMPOTENCY_TABLE: Final = "HETERO2_IDEMPOTENCY_TABLE"
STATE_MACHINE_ARN: Final = "HETERO2_STATE_MACHINE_ARN"
KMS_ALIAS_PREFIX: Final = "HETERO2_KMS_ALIAS_PREFIX"
FARGATE_MIN_ROWS: Final = "HETERO2_FARGATE_MIN_ROWS"
MAX_CONCURRENCY: Final = "HETERO2_MAX_CONCURRENCY"
# Jobs holding a running slot across the whole deployment (every org); 0 or unset: only each org's plan limits.
MAX_RUNNING_JOBS: Final = "HETERO2_MAX_RUNNING_JOBS"
FINALIZE_LAMBDA_MAX_ROWS: Final = "HETERO2_FINALIZE_LAMBDA_MAX_ROWS"
WORKER_SUBNETS: Final = "HETERO2_WORKER_SUBNETS"
WORKER_SECURITY_GROUPS: Final = "HETERO2_WORKER_SECURITY_GROUPS"
# The deployment's tenants as JSON {org: {"plan", "retention_days"}}: the API creates only these orgs.
TENANTS: Final = "HETERO2_TENANTS"

# The API and its authorizer (functions/api/auth.py, functions/handlers/authorizer.py)
JWT_ISSUER: Final = "HETERO2_JWT_ISSUER"
JWT_AUDIENCE: Final = "HETERO2_JWT_AUDIENCE"
JWKS_URL: Final = "HETERO2_JWKS_URL"
JWKS: Final = "HETERO2_JWKS"  # an inline JWKS document: the local server's, never a deployment's
USAGE_KEY_PREFIX: Final = "HETERO2_USAGE_KEY_PREFIX"
GROUP_CLAIM: Final = "HETERO2_GROUP_CLAIM"  # the primary issuer's groups claim (default cognito:groups)
# More trusted issuers as JSON [{"issuer", "audience", "jwks_url", "org_claim", "group_claim"}]: the SAML user pool
SSO_ISSUERS: Final = "HETERO2_SSO_ISSUERS"
GROUP_ROLES: Final = "HETERO2_GROUP_ROLES"  # group claims → org roles, JSON {org: {group: role}} (customer config)

# The Fargate task (functions/handlers/fargate_worker.py); the state machine sets these per task
TASK: Final = "HETERO2_TASK"
DESCRIPTORS_KEY: Final = "HETERO2_DESCRIPTORS_KEY"
CHUNK: Final = "HETERO2_CHUNK"  # one chunk per task (large jobs on Fargate Spot); unset: every chunk of the job

# The audit anchors (functions/service/audit_anchor.py, functions/handlers/audit_anchor.py)
ANCHOR_BUCKET: Final = "HETERO2_ANCHOR_BUCKET"  # the S3 Object Lock bucket the signed chain heads go to
ANCHOR_RETENTION_DAYS: Final = "HETERO2_ANCHOR_RETENTION_DAYS"  # compliance-mode retention of each anchor
ANCHOR_EVERY: Final = "HETERO2_ANCHOR_EVERY"  # the audit stream anchors every N-th event of an org (0: never)

# The SIEM export (functions/service/siem_export.py, functions/handlers/siem_export.py)
AUDIT_BUS: Final = "HETERO2_AUDIT_BUS"  # the EventBridge bus that carries each audit event as OCSF
