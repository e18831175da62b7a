"""The execution statuses the Reconcile function handles; light (no boto3) so the CDK app's rule can import it."""

from __future__ import annotations

from typing import Final

# Ends that skipped every Catch (or passed them): the job may be left RUNNING and is reconciled.
RECONCILED_STATUSES: Final = ("TIMED_OUT", "ABORTED", "FAILED")
# Every end frees a running slot: the rule sends them all, so the job queue moves even after a clean SUCCEEDED.
ENDED_STATUSES: Final = ("SUCCEEDED", *RECONCILED_STATUSES)
