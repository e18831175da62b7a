"""Names the client and its CLI share; importing this loads nothing heavy (the ``hetero2`` CLI reads it at start)."""

from __future__ import annotations

from hetero_core.layout import ZIP

ENV_URL = "HETERO2_URL"
ENV_TOKEN = "HETERO2_TOKEN"
ENV_ORG = "HETERO2_ORG"
ENV_PROJECT = "HETERO2_PROJECT"

SUCCEEDED_STATES = frozenset({"SUCCEEDED", "SUCCEEDED_WITH_ERRORS"})
TERMINAL_STATES = frozenset({*SUCCEEDED_STATES, "FAILED", "CANCELLED"})

# What ``download?artifact=`` serves, and the file name each is saved under.
ARTIFACTS: dict[str, str] = {
    "pack": ZIP,
    "decoys": "decoys.csv",
    "summary": "summary.csv",
    "report": "report.html",
    "manifest": "manifest.json",
    "public_key": "signing-public-key.pem",
}
