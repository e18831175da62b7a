"""``hetero2 serve``: the HETERO-2 API over real HTTP on 127.0.0.1, against a local moto backend.

S3, DynamoDB, KMS and Step Functions are moto, in a process of their own (``functions/local/backend.py``); jobs
run the real ASL on moto's interpreter with our handlers in-process there, exactly as in the pipeline tests. The
API runs in this process. Tokens are real JWTs signed by a key made at start-up and published as the JWKS the
API trusts; the server prints one for a demo org. Presigned URLs point at the moto server, so uploads and
downloads are real HTTP too. For people and tests; not for production (nothing is persisted, the key lives in
memory).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from functions.local import webapp
from functions.scim.paths import SCIM_BASE_PATH

if TYPE_CHECKING:
    import argparse

DEFAULT_PORT = 8780
REGION = "us-east-1"
ISSUER = "https://hetero2.local/issuer"
AUDIENCE = "hetero2-api"
DEMO_ORG = "demo"
DEMO_USER = "demo-admin"
DEMO_PROJECT = "demo-project"
TOKEN_HOURS = 12
# `hetero2 serve`'s chunks: about an eighth of a second of work, at least 5 rows (the README's 44 drugs at k = 20 are
# 5 chunks of 10), so that the dashboard's and `wait()`'s progress moves; a deployment uses ~150 s chunks.
LOCAL_CHUNK_SECONDS = 0.12
LOCAL_MIN_CHUNK_ROWS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint (base64url SHA-256 of the required members, sorted) of an EC public JWK."""
    import hashlib  # noqa: PLC0415

    members = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


class TokenIssuer:
    """Signs real ES256 JWTs with a key made for this server; ``jwks`` is what the API is told to trust."""

    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE, private_key: Any = None) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
        from jwt.algorithms import ECAlgorithm  # noqa: PLC0415

        self.issuer, self.audience = issuer, audience
        self._key = private_key if private_key is not None else ec.generate_private_key(ec.SECP256R1())
        public = json.loads(ECAlgorithm.to_jwk(self._key.public_key()))
        # a given key gets its RFC 7638 thumbprint as kid, so whoever holds the key file can compute it too
        self.kid = jwk_thumbprint(public) if private_key is not None else uuid.uuid4().hex[:16]
        self.jwks = {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    @classmethod
    def from_pem_file(cls, path: Path, issuer: str = ISSUER, audience: str = AUDIENCE) -> TokenIssuer:
        """An issuer for an EC P-256 private key in PEM (``hetero2 serve --issuer-key``); anything else is refused."""
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(
                f"{path}: not an EC P-256 private key (make one: openssl ecparam -name prime256v1 -genkey)"
            )
        return cls(issuer, audience, private_key=key)

    def token(self, user: str, org: str, *, ttl_seconds: int = TOKEN_HOURS * 3600, **overrides: Any) -> str:
        import jwt  # noqa: PLC0415

        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user,
            "hetero2:org": org,
            "iat": now,
            "exp": now + ttl_seconds,
            **overrides,
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})


def to_api_gateway_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An API Gateway REST (proxy) event, as the real gateway would send for this request."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, encoded = (body.decode("utf-8") if body else None), False
    except UnicodeDecodeError:  # API Gateway passes bytes that are not text as base64; the API answers 400
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": "/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "body": text,
        "isBase64Encoded": encoded,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "httpMethod": method,
            "path": parts.path,
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "requestTimeEpoch": int(time.time() * 1000),
        },
    }


# Powertools' resolver keeps the request it handles on the one ``app`` object: never two at once through it.
_ONE_REQUEST_AT_A_TIME = threading.Lock()


def _handler_class(service: LocalService) -> type[BaseHTTPRequestHandler]:
    class ApiRequestHandler(BaseHTTPRequestHandler):
        server_version = "hetero2-local"

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve_app(self) -> bool:
            """The web dashboard's files, its config and (loopback only) the demo sign-in; False: not one."""
            if self.command != "GET" or self.path.startswith("/v1/"):
                return False
            if self.path.split("?", 1)[0] == webapp.DEMO_SESSION_PATH:
                if not service.demo_sign_in or not service.demo_token:
                    return False
                session = {"token": service.demo_token, "org": DEMO_ORG, "project": DEMO_PROJECT, "user": DEMO_USER}
                self._send(
                    200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(session).encode()
                )
                return True
            config = {"api_url": "", "demo_sign_in": service.demo_sign_in, "oidc": service.oidc}
            origins = (service.moto_url, *([webapp.origin_of(service.oidc["issuer"])] if service.oidc else []))
            answer = webapp.static_response(self.path, origins, config)
            if answer is None:
                return False
            self._send(*answer)
            return True

        def _serve(self) -> None:
            from functions.handlers.api import handler  # noqa: PLC0415
            from functions.local.stack import LambdaContextData  # noqa: PLC0415

            if self._serve_app():
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            event = to_api_gateway_event(self.command, self.path, headers, body, self.client_address[0])
            with _ONE_REQUEST_AT_A_TIME:  # Lambda runs one request per container; the resolver relies on it
                response = handler(event, LambdaContextData("hetero2-api"))
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
            out_headers = dict(response.get("headers") or {})
            for name, values in (response.get("multiValueHeaders") or {}).items():
                out_headers[name] = ", ".join(values)
            self._send(int(response["statusCode"]), out_headers, data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            if service.verbose:
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ApiRequestHandler


@dataclass
class LocalService:
    """The API on ``url``, moto on ``moto_url``; ``start()`` provisions everything, ``stop()`` tears it down."""

    host: str = "127.0.0.1"
    port: int = 0
    moto_port: int = 0
    max_concurrency: int = 2
    verbose: bool = False
    demo_sign_in: bool = True  # the web app's one-click sign-in as the demo admin; only ever on a loopback host
    demo_token: str | None = None
    scim_token: str | None = None  # the demo org's SCIM bearer token (seed_demo)
    # The web app's OIDC sign-in: {"issuer": ..., "client_id": ..., "scope": ...}; None: token or demo only.
    oidc: dict[str, str] | None = None
    # seconds of work per chunk and the fewest rows in one; None: the deployment's (a demo job is then one chunk)
    chunk_seconds: float | None = None
    min_chunk_rows: int | None = None
    # the service's JSON log lines and metrics on stdout (the API runs in this process); `hetero2 serve` hides them
    service_logs: bool = True
    issuer: TokenIssuer = field(default_factory=TokenIssuer)
    # more identity providers the API trusts (``--issuer-key``): same issuer and audience, their own keys
    extra_issuers: list[TokenIssuer] = field(default_factory=list)
    _undo: list[Any] = field(default_factory=list)

    @property
    def trusted_jwks(self) -> dict[str, Any]:
        return {"keys": [key for issuer in (self.issuer, *self.extra_issuers) for key in issuer.jwks["keys"]]}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def start(self) -> LocalService:
        from functions.api.deps import reset_services  # noqa: PLC0415
        from functions.service import env  # noqa: PLC0415
        from functions.service.context import ServiceContext, reset_service_context  # noqa: PLC0415
        from functions.service.settings import Settings  # noqa: PLC0415

        self.moto_port = self.moto_port or free_port()
        self.port = self.port or free_port()
        chunks = [] if self.chunk_seconds is None else ["--chunk-seconds", str(self.chunk_seconds)]
        if self.min_chunk_rows is not None:
            chunks += ["--min-chunk-rows", str(self.min_chunk_rows)]
        backend = subprocess.Popen(
            [
                *(sys.executable, "-m", "functions.local.backend"),
                *("--port", str(self.moto_port), "--max-concurrency", str(self.max_concurrency)),
                *chunks,
            ],
            stdout=subprocess.PIPE,
            stderr=None if self.verbose else subprocess.DEVNULL,
            text=True,
        )
        self._undo.append(lambda: _terminate(backend))
        ready = backend.stdout.readline() if backend.stdout else ""
        if not ready:
            self.stop()
            raise RuntimeError("the local AWS backend did not start (run with --verbose to see why)")
        settings = Settings(**json.loads(ready)["settings"])

        environment = {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            env.JWT_ISSUER: self.issuer.issuer,
            env.JWT_AUDIENCE: self.issuer.audience,
            env.JWKS: json.dumps(self.trusted_jwks),
        }
        if not self.service_logs:
            environment["POWERTOOLS_METRICS_DISABLED"] = "true"
            self._quiet_service_logger()
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        self._undo.append(lambda: _restore(saved))

        import boto3  # noqa: PLC0415 - after the environment points at the backend

        session = boto3.session.Session(region_name=REGION)
        _allow_browser_transfers(session, settings.bucket, self.url)
        reset_service_context(ServiceContext(settings, session))
        reset_services(None)
        self._undo.append(reset_services)
        self._undo.append(reset_service_context)

        httpd = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        httpd.daemon_threads = True
        thread = threading.Thread(target=httpd.serve_forever, name="hetero2-api", daemon=True)
        thread.start()
        self._undo.append(httpd.server_close)
        self._undo.append(httpd.shutdown)
        return self

    def _quiet_service_logger(self) -> None:
        """Only errors from the service's logger, until stop(): the banner stays readable."""
        from functions.service.observability import logger  # noqa: PLC0415

        level = logger.log_level
        logger.setLevel(logging.ERROR)
        self._undo.append(lambda: logger.setLevel(level))

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    def seed_demo(self) -> str:
        """Create the demo org (keys included) and a project; returns the demo admin's token."""
        import urllib.error  # noqa: PLC0415
        import urllib.request  # noqa: PLC0415

        token = self.issuer.token(DEMO_USER, DEMO_ORG)
        for path, body in (
            ("/v1/orgs", {"name": "Demo org"}),
            (f"/v1/orgs/{DEMO_ORG}/projects", {"project": DEMO_PROJECT, "name": "Demo project"}),
        ):
            request = urllib.request.Request(
                self.url + path,
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request) as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                if exc.code != 409:  # 409: seeded already (a second call in the same process)
                    raise
        self.demo_token = token
        self.scim_token = self._issue_scim_token(token)
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            self.demo_sign_in = False
        return token

    def _issue_scim_token(self, admin_token: str) -> str:
        """The demo org's SCIM bearer token, issued through the API as an org admin would (each call rotates it)."""
        import urllib.request  # noqa: PLC0415

        request = urllib.request.Request(
            f"{self.url}/v1/orgs/{DEMO_ORG}/scim-token",
            method="POST",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        with urllib.request.urlopen(request) as response:
            token: str = json.loads(response.read())["token"]
        return token


def _allow_browser_transfers(session: Any, bucket: str, origin: str) -> None:
    """The bucket's CORS rules let the web dashboard (served from ``origin``) PUT and GET presigned URLs."""
    rule = {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": [
            "content-type",
            "x-amz-server-side-encryption",
            "x-amz-server-side-encryption-aws-kms-key-id",
        ],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 600,
    }
    session.client("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})


def _terminate(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HETERO-2 API locally over HTTP (moto backend, demo token)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"API port (default {DEFAULT_PORT})")
    serve.add_argument("--moto-port", type=int, default=0, help="port of the local AWS (moto) endpoint (default: free)")
    serve.add_argument("--token-file", type=Path, help="also write the demo token to this file")
    serve.add_argument(
        "--issuer-key",
        type=Path,
        help="also trust tokens signed by this EC P-256 private key (PEM), with the issuer, audience and kid "
        "the banner prints: your test harness or IdP dry run mints tokens for any org, user and role",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request and show the service's JSON logs")
    serve.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    extra = []
    if args.issuer_key is not None:
        try:
            extra.append(TokenIssuer.from_pem_file(args.issuer_key))
        except (OSError, ValueError, TypeError) as exc:
            print(f"error: --issuer-key: {exc}", file=sys.stderr)
            return 2
    service = LocalService(
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        verbose=args.verbose,
        extra_issuers=extra,
        chunk_seconds=LOCAL_CHUNK_SECONDS,
        min_chunk_rows=LOCAL_MIN_CHUNK_ROWS,
        service_logs=args.verbose,
    ).start()
    try:
        token = service.seed_demo()
        if args.token_file:
            args.token_file.write_text(token + "\n")
        print(f"HETERO-2 API on {service.url}   (local AWS: {service.moto_url})")
        print(f"web dashboard: {service.url}/")
        who = f"demo org '{DEMO_ORG}', project '{DEMO_PROJECT}', user '{DEMO_USER}' (org_admin)"
        print(f"{who}; token valid {TOKEN_HOURS} h:")
        print(f"export HETERO2_URL={service.url}")
        print(f"export HETERO2_TOKEN={token}")
        print(f"export HETERO2_PROJECT={DEMO_PROJECT}")
        print(f"SCIM 2.0 for org '{DEMO_ORG}' (point your IdP's provisioning here, docs/api.md):")
        print(f"export HETERO2_SCIM_URL={service.url}{SCIM_BASE_PATH}")
        print(f"export HETERO2_SCIM_TOKEN={service.scim_token}")
        for issuer in extra:
            print(
                f"also trusted: ES256 tokens signed by --issuer-key with kid {issuer.kid}, "
                f"iss {issuer.issuer}, aud {issuer.audience}, claims sub and hetero2:org (any org), iat and exp"
            )
        print("Ctrl-C stops the server (nothing is kept).", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        service.stop()
