"""How the report names the audited model: a reviewer must see *which* model a verdict is about."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero_core.report._markup import _e, _map

if TYPE_CHECKING:
    from collections.abc import Mapping

DIRECTION_TEXT = {"higher": "higher score = more likely real", "lower": "lower score = more likely real"}


def model_text(manifest: Mapping[str, Any]) -> str:
    """One HTML line: name, version, sha256, where the scores came from and which way they point."""
    model = _map(manifest.get("model"))
    parameters = _map(manifest.get("parameters"))
    name = model.get("name")
    text = f"<b>{_e(name)}</b>" if name else "<b>unnamed</b> (no --model-name given)"
    if model.get("version"):
        text += f" version {_e(model.get('version'))}"
    if model.get("sha256"):
        text += f", sha256 <code>{_e(model.get('sha256'))}</code>"
    scores = model.get("scores", parameters.get("scorer"))
    direction = str(parameters.get("score_direction", "higher"))
    text += f" · scores: {_e(scores)} · {_e(DIRECTION_TEXT.get(direction, direction))}"
    return text
