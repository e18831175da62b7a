"""Check one org's audit-log hash chain: ``python -m functions.service.audit_chain --org ORG``.

Reads the table named by HETERO2_AUDIT_TABLE with the default boto3 session (profile, region and
AWS_ENDPOINT_URL as usual). Prints OK and the head hash, or the first broken link. Exit 0 when the chain
holds, 1 when it is broken, 2 when the command could not check (bad arguments, no table configured).

With ``--anchors-bucket`` (or HETERO2_ANCHOR_BUCKET) it also checks the chain against the signed heads in the
Object Lock bucket (functions/service/audit_anchor.py), which is what reveals a deleted or re-hashed tail;
``--trusted-key`` pins the org's published public keys so a forged anchor is reported too.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from functions.service import env
from functions.service.audit_anchor import AnchorStore, verify_with_anchors
from functions.service.audit_log import AuditLog
from functions.service.errors import InvalidIdentifierError
from functions.service.ids import checked_id
from hetero_core.pack import public_key_id

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_UNUSABLE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m functions.service.audit_chain", description="Verify the audit-log hash chain of one org."
    )
    parser.add_argument("--org", required=True, help="org id whose chain to verify")
    parser.add_argument("--table", default=None, help="audit table name (default: $HETERO2_AUDIT_TABLE)")
    parser.add_argument(
        "--anchors-bucket",
        default=None,
        help="also check the chain against the signed heads in this Object Lock bucket "
        "(default: $HETERO2_ANCHOR_BUCKET; reports a truncated or rewritten tail)",
    )
    parser.add_argument(
        "--trusted-key",
        action="append",
        type=Path,
        default=[],
        help="the org's published signing public key (PEM; repeat for rotated keys): anchors must be signed by one",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    table_name = args.table or os.environ.get(env.AUDIT_TABLE, "")
    if not table_name:
        print(f"error: no audit table: set {env.AUDIT_TABLE} or pass --table", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        org = checked_id(args.org, "org")
    except InvalidIdentifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    session = boto3.session.Session()
    log = AuditLog(session.resource("dynamodb").Table(table_name))
    bucket = args.anchors_bucket or os.environ.get(env.ANCHOR_BUCKET, "")
    if bucket:
        return _with_anchors(log, AnchorStore(session.client("s3"), bucket), org, args.trusted_key)
    report = log.verify_chain(org)
    if report.ok:
        print(f"OK org={org} events={report.events_checked} head_hash={report.head_hash or '-'}")
        return EXIT_OK
    print(
        f"BROKEN org={org} first_broken_seq={report.first_broken_seq} "
        f"intact_before={report.events_checked}: {report.reason}"
    )
    return EXIT_BROKEN


def _with_anchors(log: AuditLog, store: AnchorStore, org: str, key_files: list[Path]) -> int:
    trusted = {public_key_id(pem): pem for pem in (path.read_bytes() for path in key_files)}
    report = verify_with_anchors(log, store, org, trusted.get if trusted else None)
    if report.ok:
        print(
            f"OK org={org} events={report.events_checked} head_hash={report.head_hash or '-'} "
            f"anchors={report.anchors_checked} anchored_through={report.anchored_seq or '-'}"
            + ("" if trusted else " (anchor keys not pinned: pass --trusted-key)")
        )
        return EXIT_OK
    print(
        f"BROKEN org={org} first_broken_seq={report.first_broken_seq} "
        f"intact_before={report.events_checked}: {report.reason}"
    )
    return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
