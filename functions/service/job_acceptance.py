"""A job's acceptance criteria (``acceptance.v1``): validated at submit, kept on the job record, used at finalize.

The document is parsed by ``hetero_core.acceptance``, the same code as ``hetero2 run --acceptance FILE``, so a job
refuses exactly what the CLI refuses, with the same message. The bytes hashed are the bytes kept: a client that
sends a file's text gets the file's own sha256 in the manifest (as the CLI records it); a JSON object sent inline
is kept in one canonical form (sorted keys, two-space indent, final newline) and that form is hashed.
"""

from __future__ import annotations

import json
from typing import Any

from hetero_core.acceptance import Acceptance, parse_acceptance
from hetero_core.errors import ConfigError

DEFAULT_NAME = "acceptance.json"
# The document lives on the job item (DynamoDB items hold at most 400 KB); a real one is a few hundred bytes.
MAX_DOCUMENT_BYTES = 16 * 1024

__all__ = ["DEFAULT_NAME", "MAX_DOCUMENT_BYTES", "acceptance_of", "criteria_used", "job_acceptance"]


def _document_bytes(document: dict[str, Any] | str) -> bytes:
    if isinstance(document, str):
        return document.encode("utf-8")
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("utf-8")


def job_acceptance(document: dict[str, Any] | str, name: str | None) -> dict[str, str]:
    """What the job record keeps: the document's name, sha256 and text, once it is valid.

    Raises:
        ConfigError: the document is too large, or not a valid ``acceptance.v1`` (the message names the field).
    """
    raw = _document_bytes(document)
    shown = name or DEFAULT_NAME
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ConfigError(f"{shown}: the acceptance document is {len(raw)} bytes; at most {MAX_DOCUMENT_BYTES}")
    parsed = parse_acceptance(raw, shown)
    return {"name": shown, "sha256": str(parsed.sha256), "text": raw.decode("utf-8")}


def acceptance_of(item: dict[str, Any]) -> Acceptance | None:
    """The job's criteria for the engine (None: the defaults), parsed again from the kept bytes."""
    kept = item.get("acceptance")
    if not isinstance(kept, dict):
        return None
    return parse_acceptance(str(kept["text"]).encode("utf-8"), str(kept["name"]))


def criteria_used(item: dict[str, Any]) -> dict[str, Any]:
    """What the job record shows: ``source`` default or file, the document's name and sha256, the criteria."""
    acceptance = acceptance_of(item) or Acceptance()
    return {
        "source": "file" if acceptance.path is not None else "default",
        "name": acceptance.path,
        "sha256": acceptance.sha256,
        "criteria": acceptance.criteria.to_dict(),
    }
