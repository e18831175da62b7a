"""Names the client and its CLI share; importing this loads nothing heavy (the ``hetero2`` CLI reads it at start)."""

from __future__ import annotations

from hetero_core import layout

ENV_URL = "HETERO2_URL"
ENV_TOKEN = "HETERO2_TOKEN"
ENV_ORG = "HETERO2_ORG"
ENV_PROJECT = "HETERO2_PROJECT"

SUCCEEDED_STATES = frozenset({"SUCCEEDED", "SUCCEEDED_WITH_ERRORS"})
TERMINAL_STATES = frozenset({*SUCCEEDED_STATES, "FAILED", "CANCELLED"})

# What ``download?artifact=`` serves, and the file name each is saved under.
# Pack members are named by the engine's layout, like the service's; the public key is the org's, not a member.
ARTIFACTS: dict[str, str] = {
    "pack": layout.ZIP,
    "decoys": layout.DECOYS,
    "summary": layout.SUMMARY,
    "report": layout.REPORT,
    "manifest": layout.MANIFEST,
    "public_key": "signing-public-key.pem",
}
