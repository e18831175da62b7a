"""The web dashboard's static files (``web/`` in the checkout) and the headers they are served with.

One policy for both places the app is served from: ``hetero2 serve`` (below) and CloudFront's response headers
policy (``infra_cdk/web_hosting.py`` builds it from :func:`content_security_policy` and :data:`SECURITY_HEADERS`).
The app is plain ES modules and one stylesheet, so the CSP needs no ``unsafe-inline`` and no ``unsafe-eval``:
scripts and styles come from the app's own origin only; the only other origins are those the app talks to
(the API, and the object store that presigned upload/download URLs point at).
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit

WEB_DIR = Path(os.environ.get("HETERO2_WEB_DIR") or Path(__file__).resolve().parents[2] / "web")
# The files the app is made of; nothing else under web/ is served (no directory listing, no dot files).
STATIC_FILES = ("index.html", "app.js", "verify.js", "app.css", "favicon.svg")
CONFIG_PATH = "/config.json"
DEMO_SESSION_PATH = "/local/demo-session"

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what CSP source lists and CORS compare."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(connect_src: tuple[str, ...] = ()) -> str:
    """Strict: own-origin scripts and styles, no inline code, no plugins, not framable, no form posts elsewhere.

    ``connect_src``: the origins ``fetch`` may reach besides the app's own (API, object store). The report is
    shown in a sandboxed ``srcdoc`` frame, which inherits this policy, so its inline code does not run either.
    """
    connect = " ".join(("'self'", *connect_src))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "frame-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


def static_response(
    path: str, connect_src: tuple[str, ...], config: dict[str, object]
) -> tuple[int, dict[str, str], bytes] | None:
    """The answer for a GET of the app (``/``, its files, ``/config.json``), or None when ``path`` is not one."""
    path = path.split("?", 1)[0]
    name = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
    if path == CONFIG_PATH:
        body, content_type = json.dumps(config).encode(), "application/json"
    elif name in STATIC_FILES and (WEB_DIR / name).is_file():
        body = (WEB_DIR / name).read_bytes()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or name.endswith(".js"):
            content_type = f"{'text/javascript' if name.endswith('.js') else content_type}; charset=utf-8"
    else:
        return None
    headers = {
        "Content-Type": content_type,
        "Cache-Control": "no-store",
        "Content-Security-Policy": content_security_policy(connect_src),
        **SECURITY_HEADERS,
    }
    return 200, headers, body
