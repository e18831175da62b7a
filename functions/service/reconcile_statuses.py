"""The execution statuses the Reconcile function handles; light (no boto3) so the CDK app's rule can import it."""

from __future__ import annotations

from typing import Final

RECONCILED_STATUSES: Final = ("TIMED_OUT", "ABORTED", "FAILED")
