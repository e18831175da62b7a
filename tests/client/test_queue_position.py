"""A job waiting for a running slot: the progress bar and ``remote status`` say its place instead of an ETA."""

from __future__ import annotations

import pytest

from hetero2_client import Job
from hetero2_client.cli import describe
from hetero2_client.job import status_text

WAITING = {"org": "o", "project": "p", "job": "j1", "state": "QUEUED", "queue_position": 2, "progress": {}}
RUNNING = {
    "org": "o",
    "project": "p",
    "job": "j1",
    "state": "RUNNING",
    "queue_position": None,
    "progress": {"rows_done": 5, "rows_total": 10, "eta_seconds": 12.4},
}


def test_a_waiting_job_shows_its_position_and_a_running_one_its_eta() -> None:
    assert status_text(WAITING) == "QUEUED, position 2 in queue"
    assert status_text(RUNNING) == "RUNNING, eta 12 s"
    assert status_text({"state": "SUCCEEDED"}) == "SUCCEEDED"


def test_remote_status_line_names_the_position() -> None:
    waiting = Job(client=None, record=WAITING)  # type: ignore[arg-type]  # describe reads the record only
    assert waiting.queue_position == 2
    assert describe(waiting).endswith("waiting for a running slot: position 2 in the org's queue")
    running = Job(client=None, record=RUNNING)  # type: ignore[arg-type]
    assert running.queue_position is None
    assert "position" not in describe(running)


def test_a_jobs_identity_and_state_are_its_record_read_only() -> None:
    job = Job(client=None, record=RUNNING)  # type: ignore[arg-type]  # only the record is read
    assert (job.org, job.project, job.id, job.state) == ("o", "p", "j1", "RUNNING")
    with pytest.raises(AttributeError, match="refresh"):
        job.state = "SUCCEEDED"  # type: ignore[assignment]  # mypy refuses it too
    assert job.state == "RUNNING"
