"""``hetero2 serve`` as a user starts it: a separate process with a clean environment, and the identity provider a
test harness becomes with ``--issuer-key`` (its own P-256 key; the issuer, audience and kid read from the banner)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.local.server import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class HarnessIdp:
    """Mints tokens the server trusts because ``--issuer-key`` named this key."""

    key: ec.EllipticCurvePrivateKey
    kid: str
    issuer: str
    audience: str

    def headers(self, user: str, org: str, **claims: Any) -> dict[str, str]:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "sub": user, "hetero2:org": org, "iat": now, "exp": now + 600}
        token = jwt.encode({**body, **claims}, self.key, algorithm="ES256", headers={"kid": self.kid})
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class ServeProcess:
    base: str
    idp: HarnessIdp


def clean_environment() -> dict[str, str]:
    """This process's environment without what the test run sets for AWS, the service or Powertools: a user's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HETERO2_", "POWERTOOLS_"))}


def start_serve(
    port: int, *options: str, environment: dict[str, str] | None = None, stderr: int = subprocess.PIPE
) -> subprocess.Popen[str]:
    """``hetero2 serve --port PORT *options`` in a clean environment (plus ``environment``), stdout piped."""
    hetero2 = Path(sys.executable).parent / "hetero2"
    return subprocess.Popen(
        [str(hetero2), "serve", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**clean_environment(), **(environment or {})},
    )


def read_banner(process: subprocess.Popen[str], last: str) -> list[str]:
    """The lines ``serve`` prints up to the one that starts with ``last``; an AssertionError if that one never comes."""
    lines: list[str] = []
    deadline = time.monotonic() + 180  # start-up takes seconds, but minutes on a busy 2-core machine
    while time.monotonic() < deadline and process.stdout is not None:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(last):
            return lines
    raise AssertionError("no banner: " + "".join(lines))


def exports(banner: list[str]) -> dict[str, str]:
    """The ``export HETERO2_…=…`` lines of a banner, as the variables a user would paste into a shell."""
    return dict(re.findall(r"^export (HETERO2_\w+)=(\S+)$", "".join(banner), re.MULTILINE))


@contextmanager
def serve_with_issuer_key(tmp_path: Path, environment: dict[str, str] | None = None) -> Iterator[ServeProcess]:
    """Start ``hetero2 serve --issuer-key``; stop it with Ctrl-C at the end (and check that it exited cleanly)."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "idp.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    port = free_port()
    process = start_serve(port, "--issuer-key", str(key_file), environment=environment)
    try:
        words = read_banner(process, "also trusted:")[-1].split()

        def after(name: str) -> str:
            return words[words.index(name) + 1].rstrip(",")

        yield ServeProcess(f"http://127.0.0.1:{port}", HarnessIdp(key, after("kid"), after("iss"), after("aud")))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
