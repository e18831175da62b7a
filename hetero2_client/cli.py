"""``hetero2 remote``: the client's verbs against a HETERO-2 service, for shells and CI.

The endpoint and token come from ``--url`` / ``--token`` or ``HETERO2_URL`` / ``HETERO2_TOKEN`` (prefer the
variables: arguments show in the process list); neither is ever printed. Exit codes extend ``hetero2``'s:
0 success; 1 the pack failed verification, or ``reproduce`` found a member that differs; 2 bad arguments or an
error answer of the service; 3 the job ended FAILED or CANCELLED; 4 ``--timeout`` ran out while the job kept
running; 130 interrupted (the job keeps running).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hetero2_client.constants import ARTIFACTS, ENV_PROJECT, ENV_TOKEN, ENV_URL, TERMINAL_STATES
from hetero2_client.errors import JobFailedError, WaitTimeoutError
from hetero_core.errors import ConfigError, HeteroError, PackVerificationError
from hetero_core.report import human_number, p_text

if TYPE_CHECKING:  # the client loads requests and tqdm: only when a verb runs (see _client)
    from hetero2_client.client import Client
    from hetero2_client.job import Job
    from hetero_core.pack import VerifyReport

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VERIFY_FAILED",
    "EXIT_WAIT_TIMEOUT",
    "main",
    "register",
]

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_WAIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``remote`` and its verbs to ``hetero2`` (entry point group ``hetero2.commands``)."""
    remote = commands.add_parser(
        "remote",
        help="submit, watch and fetch jobs on a HETERO-2 service",
        description=f"The same verbs against a HETERO-2 service; endpoint and token from ${ENV_URL} and ${ENV_TOKEN}.",
    )
    verbs = remote.add_subparsers(dest="remote_verb", required=True, metavar="VERB")
    service = _service_options()

    submit = verbs.add_parser("submit", parents=[service], help="create a job from a file, upload it and start it")
    submit.add_argument("input", type=Path, help="molecules: .csv/.tsv (id, smiles), .smi or .sdf (optionally .gz)")
    submit.add_argument("--scores", type=Path, help="scores-only mode: the decoys table with your model's score column")
    submit.add_argument("--expected-rows", type=int, help="rows to reserve against the quota (default: counted)")
    submit.add_argument(
        "--acceptance", type=Path, help="acceptance.v1 JSON overriding the GO/STOP criteria (as hetero2 run's)"
    )
    _parameter_options(submit)
    submit.add_argument("--wait", action="store_true", help="wait until the job ends")
    submit.add_argument("--out", type=Path, help="download and verify the pack here (folder or .zip); implies --wait")
    _wait_options(submit)
    submit.add_argument("--json", action="store_true", help="print the job record as JSON")
    submit.set_defaults(handler=_guarded(_cmd_submit))

    status = verbs.add_parser("status", parents=[service], help="a job's state, progress and headline results")
    _job_argument(status)
    status.add_argument("--json", action="store_true", help="print the job record as JSON")
    status.set_defaults(handler=_guarded(_cmd_status))

    wait = verbs.add_parser("wait", parents=[service], help="wait until a job ends (exit 3 if it failed)")
    _job_argument(wait)
    _wait_options(wait)
    wait.set_defaults(handler=_guarded(_cmd_wait))

    download = verbs.add_parser("download", parents=[service], help="download an artifact; the pack is verified")
    _job_argument(download)
    download.add_argument("--artifact", choices=tuple(ARTIFACTS), default="pack", help="what to download (pack)")
    download.add_argument("--out", type=Path, help="file or folder to write (default: current folder)")
    download.add_argument("--no-verify", action="store_true", help="keep the pack without verifying it")
    download.add_argument("--public-key", type=Path, help="a key you hold (PEM) instead of the org's published one")
    download.set_defaults(handler=_guarded(_cmd_download))

    verify = verbs.add_parser("verify", parents=[service], help="verify a downloaded pack against the org's key")
    _job_argument(verify)
    verify.add_argument("pack", type=Path, help="evidence_pack.zip (or the unpacked folder)")
    verify.add_argument("--public-key", type=Path, help="a key you hold (PEM) instead of the org's published one")
    verify.set_defaults(handler=_guarded(_cmd_verify))

    cancel = verbs.add_parser("cancel", parents=[service], help="cancel a job that has not finished")
    _job_argument(cancel)
    cancel.set_defaults(handler=_guarded(_cmd_cancel))

    retry = verbs.add_parser("retry", parents=[service], help="run a FAILED or CANCELLED job again")
    _job_argument(retry)
    retry.set_defaults(handler=_guarded(_cmd_retry))

    reproduce = verbs.add_parser(
        "reproduce", parents=[service], help="re-run a succeeded job from its manifest and compare the packs"
    )
    _job_argument(reproduce)
    reproduce.add_argument("--allow-version-drift", action="store_true", help="re-run even if versions differ")
    _wait_options(reproduce)
    reproduce.set_defaults(handler=_guarded(_cmd_reproduce))

    share = verbs.add_parser(
        "share", parents=[service], help="show a job to a member of the org, or a link for someone outside it"
    )
    _job_argument(share)
    whom = share.add_mutually_exclusive_group(required=True)
    whom.add_argument("--member", help="user id of a member of your org: they then see this job")
    whom.add_argument("--recipient", help="a download link for someone outside the org (kept in the audit log)")
    share.add_argument(
        "--artifact", default="pack", help="pack (default), report, summary, manifest, decoys, public_key"
    )
    share.add_argument("--expires-in", type=int, default=3600, help="seconds the link stays valid (60 to 43200)")
    share.set_defaults(handler=_guarded(_cmd_share))

    unshare = verbs.add_parser("unshare", parents=[service], help="stop showing a job to a member of the org")
    _job_argument(unshare)
    unshare.add_argument("--member", required=True, help="their user id")
    unshare.set_defaults(handler=_guarded(_cmd_unshare))

    shared = verbs.add_parser("shared", parents=[service], help="the jobs other members shared with you")
    shared.set_defaults(handler=_guarded(_cmd_shared))

    decoys = verbs.add_parser(
        "decoys", parents=[service], help="a finished job's decoys without scores: the table your model scores"
    )
    _job_argument(decoys)
    decoys.add_argument("--out", type=Path, required=True, help="CSV to write (molecule_id, role, hash, smiles)")
    decoys.set_defaults(handler=_guarded(_cmd_decoys))

    delete = verbs.add_parser("delete", parents=[service], help="delete a finished job and its files")
    _job_argument(delete)
    delete.set_defaults(handler=_guarded(_cmd_delete))

    usage = verbs.add_parser("usage", parents=[service], help="the org's metered usage this month (org admins)")
    usage.add_argument("--month", help="yyyy-mm (default: this month)")
    usage.set_defaults(handler=_guarded(_cmd_usage))

    audit = verbs.add_parser("audit", parents=[service], help="the org's audit log as JSON (org admins)")
    audit.add_argument("--limit", type=int, help="at most this many events")
    audit.add_argument("--after", help="events after this one (the answer's cursor)")
    audit.set_defaults(handler=_guarded(_cmd_audit))

    listing = verbs.add_parser("list", parents=[service], help="the project's jobs, newest first")
    listing.add_argument("--state", choices=sorted({"CREATED", "QUEUED", "RUNNING", *TERMINAL_STATES}))
    listing.add_argument("--limit", type=int, default=50, help="at most this many jobs (default 50)")
    listing.add_argument("--model-name", help="only jobs of this model name")
    listing.add_argument("--model-version", help="only jobs of this model version")
    listing.add_argument("--decision", choices=("GO", "STOP", "INCONCLUSIVE"), help="only jobs with this decision")
    listing.add_argument("--created-by", help="only jobs this user id created")
    listing.add_argument("--created-from", help="only jobs created on or after this UTC day (yyyy-mm-dd)")
    listing.add_argument("--created-to", help="only jobs created on or before this UTC day (yyyy-mm-dd)")
    listing.add_argument("--json", action="store_true", help="print the job records as JSON")
    listing.set_defaults(handler=_guarded(_cmd_list))


def main(argv: Sequence[str] | None = None) -> int:
    """``hetero2 remote ...`` without the entry point installed (tests, ``python -m hetero2_client.cli``)."""
    parser = argparse.ArgumentParser(prog="hetero2")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


def _service_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("service")
    group.add_argument("--url", help=f"API endpoint (default: ${ENV_URL})")
    group.add_argument("--token", help=f"bearer token (default: ${ENV_TOKEN}, which keeps it out of the process list)")
    group.add_argument("--org", help="org id (default: $HETERO2_ORG, else your token's org)")
    group.add_argument("--project", help=f"project id (default: ${ENV_PROJECT}); or write the job as PROJECT/JOB")
    return parent


def _job_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="job id, or PROJECT/JOB")


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, help="give up waiting after this many seconds (exit 4)")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between status checks (default 2)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _parameter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("job parameters (the service's defaults when left out)")
    group.add_argument("--k-decoys", type=int, help="decoys per molecule")
    group.add_argument("--seed", type=int, help="run seed")
    group.add_argument("--seed-by", choices=("smiles", "id"))
    group.add_argument("--scorer", help="built-in scorer: mock, constant, random, good, qed, sa, composition")
    group.add_argument("--score-direction", choices=("higher", "lower"), help="lower: IC50, docking energy, toxicity")
    group.add_argument("--min-score-coverage", type=float, help="refuse scores covering less than this share")
    group.add_argument("--model-name", help="the audited model's name (manifest and report)")
    group.add_argument("--model-version", help="the audited model's version")
    group.add_argument("--model-sha256", help="sha256 of the model artifact (64 lowercase hex)")
    group.add_argument("--decoy-descriptors", choices=("full", "fast"))
    group.add_argument("--hard-mode", action="store_true", default=None, help="keep decoys with Tanimoto 0.65-0.95")
    group.add_argument("--standardize", action="store_true", default=None, help="largest fragment, neutral charges")
    group.add_argument("--id-column", help="input column with the molecule id")
    group.add_argument("--smiles-column", help="input column with the SMILES")
    group.add_argument("--sdf-id-property", help="SD property holding the id")
    group.add_argument("--chunk-rows", type=int, help="rows per chunk (override the planner)")
    group.add_argument(
        "--decoy-cache",
        action="store_true",
        default=None,
        help="reuse and store decoys in the org's cache (faster re-audits; one S3 request per molecule)",
    )
    group.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other parameter (VALUE read as JSON when it parses: 0.9, true); repeatable",
    )


_PARAMETER_FLAGS = (
    "k_decoys",
    "seed",
    "seed_by",
    "scorer",
    "decoy_descriptors",
    "hard_mode",
    "standardize",
    "id_column",
    "smiles_column",
    "sdf_id_property",
    "chunk_rows",
    "decoy_cache",
    "score_direction",
    "min_score_coverage",
    "model_name",
    "model_version",
    "model_sha256",
)


def job_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters given on the command line, and only those, so the service's defaults stay in one place."""
    parameters: dict[str, Any] = {}
    for item in args.param:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {item!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        parameters[key.strip()] = value
    for name in _PARAMETER_FLAGS:
        value = getattr(args, name)
        if value is not None:
            parameters[name] = value
    return parameters


def _guarded(handler: Handler) -> Handler:
    """One line on stderr and an exit code for every error the client raises on purpose; no tracebacks."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (HeteroError, OSError) as exc:
            message, code = _outcome(exc)
            print(message, file=sys.stderr)
            return code
        except KeyboardInterrupt:
            print("hetero2 remote: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return run


def _outcome(exc: HeteroError | OSError) -> tuple[str, int]:
    """The line and exit code for an error; the first matching class wins (a failed pack is not a usage error)."""
    if isinstance(exc, PackVerificationError):
        return f"verify: FAILED: {exc}", EXIT_VERIFY_FAILED
    if isinstance(exc, JobFailedError | WaitTimeoutError):
        return f"hetero2 remote: {exc}", EXIT_JOB_FAILED if isinstance(exc, JobFailedError) else EXIT_WAIT_TIMEOUT
    if isinstance(exc, HeteroError):
        return f"hetero2 remote: error: {exc}", EXIT_USAGE
    return f"hetero2 remote: error: {exc.filename or ''}: {exc.strerror or exc}", EXIT_USAGE


def _client(args: argparse.Namespace) -> Client:
    from hetero2_client.client import Client  # noqa: PLC0415 - keeps `hetero2` start-up light

    return Client(args.url, args.token, org=args.org, project=args.project)


def _job(client: Client, args: argparse.Namespace) -> Job:
    project, _, job_id = str(args.job).rpartition("/")
    return client.job(job_id, project or None)


def _read_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read public key: {exc.strerror}") from exc


def describe(job: Job) -> str:
    """One line a person reads: the decision once there is one, state, rows by outcome, ETA or error."""
    progress = job.progress
    decision = job.record.get("decision")
    prefix = f"decision: {decision.get('outcome')} — {decision.get('sentence')}\n" if decision else ""
    text = prefix + (
        f"job {job.id} ({job.org}/{job.project}): {job.state}; rows {progress.get('rows_done', 0)}"
        f"/{progress.get('rows_total', 0)} (OK {progress.get('rows_ok', 0)}, SKIP {progress.get('rows_skip', 0)}, "
        f"ERROR {progress.get('rows_error', 0)})"
    )
    if progress.get("eta_seconds") is not None:
        text += f", eta {progress['eta_seconds']:.0f} s"
    if job.queue_position is not None:
        text += f", waiting for a running slot: position {job.queue_position} in the org's queue"
    cache = progress.get("decoy_cache") or {}
    if any(cache.values()):
        text += (
            f"; decoy cache {cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses, "
            f"{cache.get('corrupt', 0)} corrupt entries rebuilt"
        )
    error = job.record.get("error")
    if error:
        text += f"; error {error.get('code', '')}: {error.get('message', '')}"
    return text + _criteria_line(job.record.get("acceptance"))


def _criteria_line(acceptance: dict[str, Any] | None) -> str:
    """Which criteria decide (or decided) the job: the defaults, or the acceptance document and its sha256."""
    if not acceptance:
        return ""
    if acceptance.get("source") == "file":
        return f"\ncriteria: acceptance file {acceptance.get('name')} (sha256 {acceptance.get('sha256')})"
    return "\ncriteria: default"


def headline(results: dict[str, Any]) -> str:
    """The audit's result in one line, as ``hetero2 run`` prints it."""
    verdicts = ", ".join(f"{name} {count}" for name, count in sorted(results.get("verdicts", {}).items()))
    realism = results.get("realism") or {}
    return (
        f"PASS-rate {human_number(results.get('pass_rate'))} vs "
        f"{human_number(results.get('expected_pass_rate_by_chance'))} by chance "
        f"(better: {p_text(results.get('pass_rate_p_value'))}, worse: {p_text(results.get('pass_rate_p_value_lower'))})"
        f"; verdicts {verdicts or 'none'}"
        + (f"; realism {realism['interpretation']}" if realism.get("interpretation") else "")
    )


def _verified(report: VerifyReport, job: Job, own_key: bool) -> str:
    whose = "the key given" if own_key else f"org {job.org}'s published key"
    signature = f"signature valid against {whose}" if report.signed else "pack is NOT signed"
    return f"verify: OK: {report.pack}: {report.members_checked} members intact; {signature}"


def _wait(job: Job, args: argparse.Namespace) -> None:
    try:
        job.wait(timeout=args.timeout, poll=args.poll, progress=False if args.quiet else None)
    except KeyboardInterrupt:
        again = f"hetero2 remote wait {job.project}/{job.id}"
        print(f"hetero2 remote: job {job.id} keeps running on the service; `{again}` waits again", file=sys.stderr)
        raise
    except JobFailedError:
        print(describe(job))
        raise


def _download_pack(job: Job, out: Path | None, public_key: bytes | None) -> None:
    path = job.download("pack", out)
    try:
        report = job.verify(path, public_key=public_key)
    except PackVerificationError:
        path.unlink(missing_ok=True)
        raise
    print(f"pack: {path}")
    print(_verified(report, job, public_key is not None))


def _cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    job = client.submit(
        args.input,
        scores=args.scores,
        expected_rows=args.expected_rows,
        parameters=job_parameters(args),
        acceptance=args.acceptance,
    )
    print(f"job {job.id} started in {job.org}/{job.project} ({job.record.get('expected_rows')} rows)")
    if args.wait or args.out is not None:
        _wait(job, args)
        print(describe(job))
        print(headline(job.results()))
        if args.out is not None:
            _download_pack(job, args.out, None)
    if args.json:
        print(json.dumps(job.record, indent=2, sort_keys=True))
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    job = _job(_client(args), args)
    if args.json:
        print(json.dumps(job.record, indent=2, sort_keys=True))
        return EXIT_OK
    print(describe(job))
    if job.succeeded:
        print(headline(job.results()))
    return EXIT_OK


def _cmd_wait(args: argparse.Namespace) -> int:
    job = _job(_client(args), args)
    _wait(job, args)
    print(describe(job))
    print(headline(job.results()))
    return EXIT_OK


def _cmd_download(args: argparse.Namespace) -> int:
    job = _job(_client(args), args)
    if args.artifact != "pack" or args.no_verify:
        print(f"{args.artifact}: {job.download(args.artifact, args.out)}")
        return EXIT_OK
    _download_pack(job, args.out, _read_key(args.public_key))
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    if not args.pack.exists():
        raise ConfigError(f"{args.pack}: no such pack folder or zip")
    job = _job(_client(args), args)
    key = _read_key(args.public_key)
    print(_verified(job.verify(args.pack, public_key=key), job, key is not None))
    return EXIT_OK


def _cmd_cancel(args: argparse.Namespace) -> int:
    job = _job(_client(args), args).cancel()
    print(describe(job))
    return EXIT_OK


def _cmd_retry(args: argparse.Namespace) -> int:
    job = _job(_client(args), args).retry()
    print(describe(job))
    return EXIT_OK


def reproduction_line(job: Job) -> str:
    """``REPRODUCED`` or ``DIFFERS``, as ``hetero2 reproduce`` prints it, with the drift the job was allowed."""
    outcome = job.reproduction or {}
    drift = "".join(f"\nversion drift (allowed): {item}" for item in outcome.get("drift", []))
    if outcome.get("outcome") == "REPRODUCED":
        return f"REPRODUCED: job {outcome.get('of')}: {outcome.get('members_compared')} members identical" + drift
    return f"DIFFERS: job {outcome.get('of')}: {outcome.get('member')}: {outcome.get('where')}" + drift


def _cmd_reproduce(args: argparse.Namespace) -> int:
    """Exit 0 REPRODUCED, 1 a member differs (as ``hetero2 reproduce``), 3 the reproduce job failed (e.g. drift)."""
    job = _job(_client(args), args).reproduce(allow_version_drift=args.allow_version_drift)
    print(f"job {job.id} reproduces {job.record.get('reproduce_of')} in {job.org}/{job.project}")
    _wait(job, args)
    print(reproduction_line(job))
    return EXIT_OK if (job.reproduction or {}).get("outcome") == "REPRODUCED" else EXIT_VERIFY_FAILED


def _cmd_share(args: argparse.Namespace) -> int:
    job = _job(_client(args), args)
    if args.member:
        share = job.share_with(args.member)
        print(f"job {job.id} shared with {share['user']}")
        return EXIT_OK
    link = job.share(args.recipient, args.artifact, args.expires_in)
    print(link["url"])
    return EXIT_OK


def _cmd_unshare(args: argparse.Namespace) -> int:
    job = _job(_client(args), args)
    job.unshare(args.member)
    print(f"job {job.id} no longer shared with {args.member}")
    return EXIT_OK


def _cmd_shared(args: argparse.Namespace) -> int:
    for job in _client(args).shared_jobs():
        print(f"{job.project}/{job.id}\t{job.state}\t{job.record.get('input_name', '')}")
    return EXIT_OK


def _cmd_decoys(args: argparse.Namespace) -> int:
    path = _job(_client(args), args).export_decoys(args.out)
    print(f"decoys (no score column): {path}")
    return EXIT_OK


def _cmd_delete(args: argparse.Namespace) -> int:
    deleted = _job(_client(args), args).delete()
    print(f"deleted {deleted['deleted']} ({deleted['objects_deleted']} objects)")
    return EXIT_OK


def _cmd_usage(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).usage(args.month), indent=2, sort_keys=True))
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).audit(args.limit, args.after), indent=2, sort_keys=True))
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    filters = {
        "model_name": args.model_name,
        "model_version": args.model_version,
        "decision": args.decision,
        "created_by": args.created_by,
        "created_from": args.created_from,
        "created_to": args.created_to,
    }
    jobs = _client(args).jobs(args.project, state=args.state, limit=args.limit, **filters)
    if args.json:
        print(json.dumps([job.record for job in jobs], indent=2, sort_keys=True))
        return EXIT_OK
    for job in jobs:
        progress = job.progress
        print(
            f"{job.id}\t{job.state}\t{progress.get('rows_done', 0)}/{progress.get('rows_total', 0)}\t"
            f"{job.record.get('created_at', '')}\t{job.record.get('input_name', '')}"
        )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
