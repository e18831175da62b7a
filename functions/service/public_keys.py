"""The org's published signing public keys: every key that ever signed a pack stays downloadable.

``hetero2 verify`` (and the client) trusts the public key the service publishes for the org. A signing key is
replaced behind its alias on rotation (docs/deploy.md); packs signed before must keep verifying, so each key is
published under its own id (``tenants/{org}/keys/{key_id}.pem``, outside the retention lifecycle's
``projects/`` prefix) and never removed, and ``signing-public-key.pem`` names the current one. :func:`publish`
is idempotent and reads the key through its alias (never a cached key ARN), so calling it after a rotation
publishes the new key: org creation, the daily retention pass and every public-key download call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from functions.service import layout
from functions.service.errors import NotFoundError
from hetero_core import layout as pack_layout
from hetero_core.pack import public_key_id

if TYPE_CHECKING:
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef

PEM_TYPE = "application/x-pem-file"


def current_public_key(ctx: ServiceContext, org: str) -> bytes:
    """The PEM of the key the signing alias names now (KMS GetPublicKey by alias: no cached ARN)."""
    der = ctx.kms.get_public_key(KeyId=ctx.keys.signing_alias(org))["PublicKey"]
    return serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def publish(ctx: ServiceContext, org: str) -> str:
    """Publish the org's current signing public key (if not yet) and point ``signing-public-key.pem`` at it."""
    pem = current_public_key(ctx, org)
    key_id = public_key_id(pem)
    store = ctx.store(org)
    versioned = layout.org_public_key_version_key(org, key_id)
    if not store.exists(versioned):
        store.put_bytes(versioned, pem, PEM_TYPE)
    current = layout.org_public_key_key(org)
    if not store.exists(current) or store.get_bytes(current) != pem:
        store.put_bytes(current, pem, PEM_TYPE)
    return key_id


def signing_key_id_of(manifest: Any) -> str | None:
    signature = manifest.get("signature") if isinstance(manifest, dict) else None
    key_id = signature.get("key_id") if isinstance(signature, dict) else None
    return key_id if isinstance(key_id, str) else None


def key_for_job(ctx: ServiceContext, ref: JobRef) -> str:
    """The S3 key of the public key that verifies this job's pack (the one named in its manifest)."""
    publish(ctx, ref.org)
    store = ctx.store(ref.org)
    key_id = signing_key_id_of(store.get_json(layout.pack_member_key(ref, pack_layout.MANIFEST)))
    if key_id is None:
        return layout.org_public_key_key(ref.org)
    try:
        key = layout.org_public_key_version_key(ref.org, key_id)
    except ValueError as exc:
        raise NotFoundError(f"the pack names an unusable key id {key_id!r}") from exc
    if not store.exists(key):
        raise NotFoundError(f"the key {key_id} that signed this pack is not published")
    return key
