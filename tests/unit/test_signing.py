"""Manifest signatures: DER ECDSA P-256/SHA-256 (the KMS format), deterministic, checkable with the public key."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hetero_core.errors import SigningError
from hetero_core.pack import (
    LocalKeySigner,
    Signer,
    generate_private_key_pem,
    public_key_id,
    public_key_pem_from_private,
)
from hetero_core.pack._signing import KEY_ID_LENGTH, verify_signature

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

MANIFEST = b'{\n  "engine": "hetero2",\n  "input": "aspirin_caffeine.csv"\n}\n'


@pytest.fixture(scope="module")
def private_pem() -> bytes:
    return generate_private_key_pem()


@pytest.fixture(scope="module")
def signer(private_pem: bytes) -> LocalKeySigner:
    return LocalKeySigner.from_pem_bytes(private_pem)


def _pem(key: object, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def test_sign_then_verify_round_trip(signer: LocalKeySigner) -> None:
    signature = signer.sign(MANIFEST)
    assert verify_signature(signer.public_key_pem(), MANIFEST, signature) is True


def test_signature_is_deterministic(signer: LocalKeySigner, private_pem: bytes) -> None:
    again = LocalKeySigner.from_pem_bytes(private_pem)
    assert signer.sign(MANIFEST) == signer.sign(MANIFEST) == again.sign(MANIFEST)
    assert signer.sign(MANIFEST) != signer.sign(MANIFEST + b" ")


def test_signature_is_der_ecdsa_over_sha256_like_kms(signer: LocalKeySigner) -> None:
    signature = signer.sign(MANIFEST)
    r, s = decode_dss_signature(signature)  # raises unless DER SEQUENCE{r, s}
    assert r > 0
    assert s > 0
    public_key = serialization.load_pem_public_key(signer.public_key_pem())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    # A verifier that knows nothing of HETERO-2 (plain ECDSA with SHA-256) accepts it.
    public_key.verify(signature, MANIFEST, ec.ECDSA(hashes.SHA256()))


def test_verify_rejects_changed_data_and_other_keys(signer: LocalKeySigner) -> None:
    signature = signer.sign(MANIFEST)
    other = LocalKeySigner.from_pem_bytes(generate_private_key_pem())
    assert verify_signature(signer.public_key_pem(), MANIFEST.replace(b"aspirin", b"asp1rin"), signature) is False
    assert verify_signature(other.public_key_pem(), MANIFEST, signature) is False


@pytest.mark.parametrize("signature", [b"", b"not a DER signature", b"\x30\x06\x02\x01\x01\x02\x01\x01"])
def test_verify_returns_false_for_malformed_signatures(signer: LocalKeySigner, signature: bytes) -> None:
    assert verify_signature(signer.public_key_pem(), MANIFEST, signature) is False


def test_verify_raises_for_unusable_public_key(signer: LocalKeySigner) -> None:
    with pytest.raises(SigningError, match="not a readable PEM public key"):
        verify_signature(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", MANIFEST, b"")
    p384_public = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384_public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(SigningError, match="secp384r1"):
        verify_signature(pem, MANIFEST, signer.sign(MANIFEST))


def test_key_id_is_sha256_of_der_spki_first_16_hex(signer: LocalKeySigner) -> None:
    public_key = serialization.load_pem_public_key(signer.public_key_pem())
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert signer.key_id == hashlib.sha256(der).hexdigest()[:KEY_ID_LENGTH]
    assert len(signer.key_id) == 16
    assert public_key_id(signer.public_key_pem()) == signer.key_id


def test_public_key_pem_from_private_matches_signer(signer: LocalKeySigner, private_pem: bytes) -> None:
    public_pem = public_key_pem_from_private(private_pem)
    assert public_pem == signer.public_key_pem()
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")


def test_generated_keys_are_distinct_unencrypted_p256() -> None:
    first, second = generate_private_key_pem(), generate_private_key_pem()
    assert first != second
    assert first.startswith(b"-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(first, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)


def test_from_pem_file(tmp_path: Path, private_pem: bytes, signer: LocalKeySigner) -> None:
    key_file = tmp_path / "hetero_sign.pem"
    key_file.write_bytes(private_pem)
    loaded = LocalKeySigner.from_pem_file(key_file)
    assert loaded.key_id == signer.key_id
    assert loaded.sign(MANIFEST) == signer.sign(MANIFEST)


def test_from_pem_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="cannot read the signing key file"):
        LocalKeySigner.from_pem_file(tmp_path / "absent.pem")


def test_sec1_ec_private_key_is_accepted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert pem.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    signer = LocalKeySigner.from_pem_bytes(pem)
    assert verify_signature(signer.public_key_pem(), MANIFEST, signer.sign(MANIFEST))


def test_encrypted_key_needs_its_password(tmp_path: Path) -> None:
    pem = _pem(ec.generate_private_key(ec.SECP256R1()), password=b"correct horse")
    key_file = tmp_path / "encrypted.pem"
    key_file.write_bytes(pem)
    with pytest.raises(SigningError, match="encrypted; give its password") as excinfo:
        LocalKeySigner.from_pem_file(key_file)
    assert str(key_file) in str(excinfo.value)
    with pytest.raises(SigningError, match="not a readable PEM private key"):
        LocalKeySigner.from_pem_bytes(pem, password=b"wrong")
    signer = LocalKeySigner.from_pem_bytes(pem, password=b"correct horse")
    assert verify_signature(signer.public_key_pem(), MANIFEST, signer.sign(MANIFEST))


def test_password_for_unencrypted_key_is_refused(private_pem: bytes) -> None:
    with pytest.raises(SigningError, match="not encrypted"):
        LocalKeySigner.from_pem_bytes(private_pem, password=b"secret")


@pytest.mark.parametrize(
    ("make_key", "message"),
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "curve secp384r1"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "curve secp256k1"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "RSA key"),
        (ed25519.Ed25519PrivateKey.generate, "Ed25519 key"),
    ],
)
def test_non_p256_keys_are_refused(make_key: Callable[[], object], message: str) -> None:
    pem = _pem(make_key())
    with pytest.raises(SigningError, match=message):
        LocalKeySigner.from_pem_bytes(pem)
    with pytest.raises(SigningError, match="P-256"):
        LocalKeySigner.from_pem_bytes(pem)


@pytest.mark.parametrize("data", [b"", b"hello", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_garbage_is_not_a_key(data: bytes) -> None:
    with pytest.raises(SigningError, match="not a readable PEM private key"):
        LocalKeySigner.from_pem_bytes(data)


def test_local_signer_satisfies_the_signer_protocol(signer: LocalKeySigner) -> None:
    as_protocol: Signer = signer  # mypy checks the structural match; isinstance checks it at run time
    assert isinstance(as_protocol, Signer)
    assert as_protocol.key_id == signer.key_id
