"""Where SCIM lives under the API's URL (imported by the API routes, the local server and the CDK app)."""

from __future__ import annotations

from typing import Final

SCIM_BASE_PATH: Final = "/scim/v2"
MEDIA_TYPE: Final = "application/scim+json"


def is_scim_path(path: object) -> bool:
    text = str(path or "")
    return text == SCIM_BASE_PATH or text.startswith(SCIM_BASE_PATH + "/")
