"""Signatures over the pack manifest that a third party checks with the public key alone (SPEC §6).

The format is DER-encoded ECDSA P-256 over SHA-256 of the data: exactly what AWS KMS returns for
``ECDSA_SHA_256`` with ``MessageType=RAW`` on an ``ECC_NIST_P256`` key, so the service's KMS signer and the
CLI's local key file are interchangeable and one verifier serves both. The local signer uses deterministic
ECDSA (RFC 6979) so that signing the same manifest twice gives the same bytes and the pack stays
byte-identical.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hetero_core.errors import SigningError

SIGNATURE_ALGORITHM = "ECDSA_SHA_256"
KEY_ID_LENGTH = 16

__all__ = [
    "KEY_ID_LENGTH",
    "SIGNATURE_ALGORITHM",
    "LocalKeySigner",
    "Signer",
    "generate_private_key_pem",
    "public_key_id",
    "public_key_pem_from_private",
    "verify_signature",
]


@runtime_checkable
class Signer(Protocol):
    """Anything that signs the manifest: a local key file here, a KMS key in the service."""

    key_id: str

    def sign(self, data: bytes) -> bytes:
        """DER-encoded ECDSA P-256 signature over SHA-256 of ``data``."""
        ...

    def public_key_pem(self) -> bytes:
        """The PEM SubjectPublicKeyInfo that verifies :meth:`sign`'s output."""
        ...


def _describe(key: object) -> str:
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "") or "unknown"


def _require_p256(key: object, source: str) -> None:
    """Refuse anything but P-256: KMS's ECC_NIST_P256 is the one key type the whole product verifies."""
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        raise SigningError(f"{source}: is a {_describe(key)} key; HETERO-2 signs with ECDSA P-256 (secp256r1) only")
    if not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(
            f"{source}: is an EC key on curve {key.curve.name}; HETERO-2 signs with ECDSA P-256 (secp256r1) only"
        )


def _spki_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:KEY_ID_LENGTH]


def _load_public_key(public_key_pem: bytes, source: str = "public key") -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{source}: not a readable PEM public key ({exc})") from exc
    _require_p256(key, source)
    assert isinstance(key, ec.EllipticCurvePublicKey)  # narrowed by _require_p256
    return key


class LocalKeySigner:
    """Signs with a P-256 private key held in memory (the CLI's ``--sign-key`` file)."""

    key_id: str

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        _require_p256(private_key, "signing key")
        self._key = private_key
        self.key_id = _key_id(private_key.public_key())

    @classmethod
    def from_pem_bytes(
        cls, data: bytes, *, password: bytes | None = None, source: str = "signing key"
    ) -> LocalKeySigner:
        """Load a PEM private key (PKCS#8 or SEC1); ``source`` names it in error messages."""
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except TypeError as exc:
            # cryptography signals both password mismatches (missing / superfluous) with TypeError.
            if password is None:
                raise SigningError(f"{source}: the private key is encrypted; give its password") from exc
            raise SigningError(f"{source}: a password was given but the private key is not encrypted") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SigningError(f"{source}: not a readable PEM private key ({exc})") from exc
        _require_p256(key, source)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # narrowed by _require_p256
        return cls(key)

    @classmethod
    def from_pem_file(cls, path: str | Path, *, password: bytes | None = None) -> LocalKeySigner:
        """Load a PEM private key file."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SigningError(f"{path}: cannot read the signing key file ({exc.strerror or exc})") from exc
        return cls.from_pem_bytes(data, password=password, source=str(path))

    def sign(self, data: bytes) -> bytes:
        """Deterministic (RFC 6979) DER ECDSA signature over SHA-256 of ``data``."""
        return self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))

    def public_key_pem(self) -> bytes:
        """The matching public key as PEM SubjectPublicKeyInfo (what KMS GetPublicKey gives, PEM-wrapped)."""
        return _spki_pem(self._key.public_key())


def generate_private_key_pem() -> bytes:
    """A fresh unencrypted P-256 private key as PKCS#8 PEM, for ``hetero2 keygen`` and tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem_from_private(pem: bytes) -> bytes:
    """The public half of a PEM private key, to hand to whoever verifies the packs."""
    return LocalKeySigner.from_pem_bytes(pem).public_key_pem()


def public_key_id(public_key_pem: bytes) -> str:
    """The key id a :class:`LocalKeySigner` would report: sha256 of the DER SubjectPublicKeyInfo, 16 hex chars."""
    return _key_id(_load_public_key(public_key_pem))


def verify_signature(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid DER ECDSA P-256/SHA-256 signature of ``data`` under the key.

    A wrong or malformed signature gives False; an unusable public key raises :class:`SigningError`,
    since that is a fault of the key given, not evidence about the data.
    """
    key = _load_public_key(public_key_pem)
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
