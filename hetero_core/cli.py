"""``hetero2``: the local command line over the same engine the service runs.

Exit codes: 0 success; 1 a pack failed verification, or ``reproduce`` found a member that differs; 2 bad input,
bad parameters or an unusable file (one clear message on stderr, nothing half-written); 3 the audit's decision
is STOP and ``--fail-on-stop`` was given (the pack is written all the same), so an audit can gate a model
release in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hetero_core import __version__
from hetero_core.audit import load_acceptance
from hetero_core.cache import DecoyCache, FolderStore, default_cache_dir
from hetero_core.chunks import default_workers
from hetero_core.config import RunConfig
from hetero_core.decoys import DECOY_FILTERS, LADDER
from hetero_core.errors import ConfigError, HeteroError, PackVerificationError
from hetero_core.io import InputColumns, atomic_text_file
from hetero_core.layout import REPORT
from hetero_core.pack import (
    LocalKeySigner,
    generate_private_key_pem,
    public_key_pem_from_private,
    resolve_created_at,
    verify_pack,
)
from hetero_core.pipeline import audit_callable, reproduce_pack, run_audit, run_calibration, write_decoy_table
from hetero_core.progress import Progress
from hetero_core.report import human_number, p_text
from hetero_core.scores import (
    SCORER_GROUP,
    ModelInfo,
    installed_scorers,
    load_external_scores,
    load_scorer,
    make_scorer,
)
from hetero_core.scores._callable import DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TIMEOUT_S
from hetero_core.scores._scorers import SCORER_NAMES

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from hetero_core.audit import Acceptance
    from hetero_core.cache import CacheStats
    from hetero_core.pipeline import RunOutcome

PLUGIN_GROUP = "hetero2.commands"
EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2
EXIT_STOP = 3
RUN_STATISTICS_SUFFIX = ".run.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except PackVerificationError as exc:
        print(f"verify: FAILED: {exc}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    except HeteroError as exc:
        print(f"hetero2: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"hetero2: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hetero2: interrupted; the pack being written was discarded", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hetero2", description="Audit a molecular scoring model against matched, degree-preserving decoys."
    )
    parser.add_argument("--version", action="version", version=f"hetero2 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="decoys + scores + audit → evidence pack")
    run.add_argument(
        "input",
        type=Path,
        nargs="?",
        help="molecules: .csv/.tsv (id, smiles), .smi or .sdf (optionally .gz); default: the bundled example",
    )
    run.add_argument("--out", type=Path, required=True, help="pack folder to write (replaced if it is a pack)")
    source = run.add_mutually_exclusive_group()
    source.add_argument(
        "--scorer",
        default=None,
        help="built-in scorer (mock, constant, random, good, qed, sa, composition), an installed hetero2.scorers "
        "plugin (see `hetero2 scorers`), or MODULE:FUNCTION: your model, called in this process",
    )
    source.add_argument("--scores", type=Path, help="customer scores: scored decoys table (.csv/.parquet) or v1 .json")
    _engine_options(run)
    run.add_argument("--model-name", help="the audited model's name, recorded in the manifest and the report")
    run.add_argument("--model-version", help="the audited model's version")
    run.add_argument("--model-sha256", help="sha256 of the model artifact (64 hex digits)")
    run.add_argument("--acceptance", type=Path, help="acceptance.v1 JSON overriding the GO/STOP criteria")
    run.add_argument("--fail-on-stop", action="store_true", help="exit 3 when the decision is STOP (for CI gates)")
    run.add_argument("--created-at", help="ISO 8601 creation time for a reproducible pack (else SOURCE_DATE_EPOCH)")
    run.add_argument("--sign-key", type=Path, help="ECDSA P-256 private key (PEM) to sign the manifest")
    run.add_argument("--timings", type=Path, help="write run timings (JSON) here; they never go into the pack")
    run.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help="your model: molecules per call (default %(default)s)",
    )
    run.add_argument(
        "--batch-timeout",
        type=float,
        default=DEFAULT_BATCH_TIMEOUT_S,
        help="your model: seconds per call before its molecules become ERROR scorer_error (default %(default)s)",
    )
    run.set_defaults(handler=_cmd_run)

    scorers = commands.add_parser("scorers", help="list the built-in scorers and the installed hetero2.scorers plugins")
    scorers.set_defaults(handler=_cmd_scorers)

    decoys = commands.add_parser("decoys", help="the decoys table a customer scores with their own model")
    decoys.add_argument("input", type=Path)
    decoys.add_argument("--out", type=Path, required=True, help="CSV to write (molecule_id, role, hash, smiles)")
    _engine_options(decoys)
    decoys.set_defaults(handler=_cmd_decoys)

    verify = commands.add_parser("verify", help="check a pack folder or evidence_pack.zip")
    verify.add_argument("pack", type=Path)
    verify.add_argument("--public-key", type=Path, help="the publisher's public key (PEM); required trust anchor")
    verify.set_defaults(handler=_cmd_verify)

    reproduce = commands.add_parser("reproduce", help="re-run a pack from its manifest and compare every member")
    reproduce.add_argument("pack", type=Path, help="pack folder or evidence_pack.zip")
    reproduce.add_argument("--input", type=Path, required=True, help="the molecules file the pack was made from")
    reproduce.add_argument("--scores", type=Path, help="the scores file, when the pack audited one")
    reproduce.add_argument("--public-key", type=Path, help="the publisher's public key (PEM) to verify the pack with")
    reproduce.add_argument("--allow-version-drift", action="store_true", help="re-run even if versions differ")
    reproduce.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    reproduce.set_defaults(handler=_cmd_reproduce)

    calibrate = commands.add_parser("calibrate", help="known-bad vs known-good scorers: does the audit separate them?")
    calibrate.add_argument("input", type=Path)
    calibrate.add_argument("--out", type=Path, required=True, help="folder for the three packs and calibration.json")
    _engine_options(calibrate)
    calibrate.add_argument("--created-at")
    calibrate.add_argument("--sign-key", type=Path, help="ECDSA P-256 private key (PEM) to sign every pack")
    calibrate.set_defaults(handler=_cmd_calibrate)

    cache = commands.add_parser("cache", help="the decoy cache: where it is and how big (info), or empty it (clear)")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("--cache-dir", type=Path, help=f"the cache folder (default {_DEFAULT_CACHE_TEXT})")
    cache.set_defaults(handler=_cmd_cache)

    keygen = commands.add_parser("keygen", help="make an ECDSA P-256 key pair for signing packs")
    keygen.add_argument("--out", type=Path, required=True, help="private key PEM; the public key goes to *.pub.pem")
    keygen.set_defaults(handler=_cmd_keygen)
    for plugin in entry_points(group=PLUGIN_GROUP):
        # service verbs (serve, remote) live outside the engine, which imports nothing from AWS
        try:
            register = plugin.load()
        except ImportError:  # the service extras are not installed: the engine's verbs still work
            continue
        register(commands)
    return parser


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id-column", default="id", help="input column with the molecule id (default: id)")
    parser.add_argument("--smiles-column", default="smiles", help="input column with the SMILES (default: smiles)")
    parser.add_argument("--sdf-id-property", help="SD property holding the id (default: the record's title line)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    option = _ConfigOptions(parser)
    option("k_decoys", "decoys per molecule")
    option("seed", "run seed")
    option("seed_by", "per-molecule seed source", choices=("smiles", "id"))
    option("hard_mode", "keep decoys with Tanimoto 0.65-0.95 only")
    option("standardize", "keep largest fragment and neutralise charges")
    option("hard_min_similarity", "hard mode: lowest Tanimoto kept")
    option("hard_max_similarity", "hard mode: highest Tanimoto kept")
    option("q", "null quantile of the gate")
    option("margin", "margin added to the null quantile")
    option(
        "score_direction",
        "higher: a higher score means more likely real/active; lower: IC50, docking energy, toxicity",
        choices=("higher", "lower"),
    )
    option("min_score_coverage", "refuse (exit 2) when scores cover less than this share of molecules or decoys")
    option("max_heavy_atoms", "molecules with more heavy atoms are skipped (SKIP too_many_atoms)")
    option("timeout_s", "seconds per molecule before ERROR timeout")
    option(
        "decoy_descriptors",
        "full: all descriptor deltas; fast: skip Crippen logP and SMARTS HBA on decoys (about 2x faster)",
        choices=("full", "fast"),
    )
    option(
        "decoy_filter",
        "standard: reject decoys with a red-flag motif their original lacks (SPEC §3); none: decoys.v1 behaviour, "
        "for comparison; strict: also no new RDKit Brenk alert (slower)",
        choices=DECOY_FILTERS,
    )
    option(
        "max_rung",
        "highest rung of the decoy ladder (relax_aromatic: ring systems never rewired)",
        choices=LADDER,
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help=f"decoy cache folder: decoys are reused across runs by content (default {_DEFAULT_CACHE_TEXT})",
    )
    parser.add_argument("--no-cache", action="store_true", help="build every decoy; read and write no cache")


class _ConfigOptions:
    """Adds a RunConfig field as an option whose default is the config's own: each default is written once."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._parser = parser
        self._defaults = RunConfig()

    def __call__(self, field: str, help_text: str, *, choices: Sequence[str] | None = None) -> None:
        flag = "--" + _RENAMED_OPTIONS.get(field, field).replace("_", "-")
        default = getattr(self._defaults, field)
        if isinstance(default, bool):  # a switch: off unless given
            self._parser.add_argument(flag, action="store_true", help=help_text)
            return
        shown = f"{help_text} (default {default})"
        if choices is not None:
            self._parser.add_argument(flag, choices=choices, default=default, help=shown)
        else:
            self._parser.add_argument(flag, type=type(default), default=default, help=shown)


_DEFAULT_CACHE_TEXT = "$HETERO2_CACHE_DIR, else $XDG_CACHE_HOME/hetero2/decoys, else ~/.cache/hetero2/decoys"


def _decoy_cache(args: argparse.Namespace) -> DecoyCache | None:
    if args.no_cache:
        if args.cache_dir:
            raise ConfigError("--cache-dir and --no-cache contradict each other; give one")
        return None
    return DecoyCache(FolderStore(_cache_folder(args)))


def _cache_folder(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else the user's cache folder: where the run's entries are, and what the CLI reports."""
    return args.cache_dir or default_cache_dir()


# The options whose names differ from the RunConfig field they set (every other option is named as its field).
_RENAMED_OPTIONS = {"hard_min_similarity": "hard_min", "hard_max_similarity": "hard_max", "timeout_s": "timeout"}


def _config(args: argparse.Namespace) -> RunConfig:
    return RunConfig.from_attributes(args, _RENAMED_OPTIONS)


def _columns(args: argparse.Namespace) -> InputColumns:
    return InputColumns(args.id_column, args.smiles_column, args.sdf_id_property)


def _workers(args: argparse.Namespace) -> int:

    if args.workers is None:
        return default_workers()
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    return int(args.workers)


def _cmd_run(args: argparse.Namespace) -> int:

    if args.input is None:
        args.input = bundled_example()
        print(f"hetero2: no INPUT given, auditing the bundled example {args.input.name}", file=sys.stderr)
    config = _config(args)
    sha = args.model_sha256.lower() if args.model_sha256 else None
    model = ModelInfo(name=args.model_name, version=args.model_version, sha256=sha)
    acceptance = load_acceptance(args.acceptance) if args.acceptance else None
    signer = LocalKeySigner.from_pem_file(args.sign_key) if args.sign_key else None
    created_at = resolve_created_at(args.created_at)
    if args.scorer and args.scorer not in SCORER_NAMES:
        return _run_model(args, config, model, acceptance, signer, created_at)
    scorer = load_external_scores(args.scores) if args.scores else make_scorer(args.scorer or "qed", seed=args.seed)
    with Progress("audit", quiet=args.quiet) as progress:
        outcome = run_audit(
            args.input,
            args.out,
            config=config,
            scorer=scorer,
            model=model,
            acceptance=acceptance,
            created_at=created_at,
            workers=_workers(args),
            signer=signer,
            columns=_columns(args),
            on_total=progress.set_total,
            on_progress=progress.advance,
            cache=_decoy_cache(args),
        )
    return _report_run(args, outcome)


def _run_model(
    args: argparse.Namespace,
    config: RunConfig,
    model: ModelInfo,
    acceptance: Acceptance | None,
    signer: LocalKeySigner | None,
    created_at: datetime,
) -> int:
    """``--scorer MODULE:FUNCTION`` or a plugin: the customer's model runs here, its numbers become a scores file."""
    loaded = load_scorer(args.scorer)
    with Progress("audit", quiet=args.quiet) as progress:
        run = audit_callable(
            args.input,
            args.out,
            loaded.fn,
            config=config,
            created_at=created_at,
            model=model,
            model_fallback=loaded.model,
            workers=_workers(args),
            batch_size=args.batch_size,
            batch_timeout_s=args.batch_timeout,
            columns=_columns(args),
            acceptance=acceptance,
            signer=signer,
            on_total=progress.set_total,
            on_progress=progress.advance,
            cache=_decoy_cache(args),
        )
    print(
        f"scorer: {args.scorer} as {run.model.name or '(unnamed)'} {run.model.version or ''}; "
        f"scored in the {run.scoring} ({run.scoring_note}); scores: {run.scores_path}",
        file=sys.stderr,
    )
    return _report_run(args, run.outcome)


def _report_run(args: argparse.Namespace, outcome: RunOutcome) -> int:
    """The run's summary on stdout (decision first), timings and cache counts on stderr and in the run-statistics
    file beside the pack (never inside it: a pack is byte-identical with or without the cache), the exit code
    ``--fail-on-stop`` asks for."""
    metrics, pack, seconds, per_second = outcome.metrics, outcome.pack, outcome.seconds, outcome.molecules_per_second
    counts = metrics["counts"]
    decision = metrics["decision"]
    print(
        f"decision: {decision['outcome']} — {decision['sentence']}\n"
        f"report: {pack.path / REPORT}\n"
        f"pack: {pack.path}\n"
        f"rows: {counts['total']} (OK {counts['OK']}, SKIP {counts['SKIP']}, ERROR {counts['ERROR']}); "
        f"PASS-rate {human_number(metrics['pass_rate'])} vs "
        f"{human_number(metrics['expected_pass_rate_by_chance'])} by chance "
        f"(better: {p_text(metrics['pass_rate_p_value'])}, worse: {p_text(metrics['pass_rate_p_value_lower'])}); "
        f"realism {metrics['realism']['interpretation']}\n"
        f"zip sha256: {pack.zip_sha256}{'  (signed)' if pack.signed else ''}"
    )
    timings = {"rows": outcome.rows, "seconds": round(seconds, 3), "molecules_per_second": per_second}
    print(f"time: {seconds:.1f} s, {per_second:.1f} molecules/s", file=sys.stderr)
    statistics = {**timings, "decoy_cache": _cache_facts(args, outcome.cache)}
    print(f"decoy cache: {_cache_sentence(args, outcome.cache)}", file=sys.stderr)
    write_run_statistics(pack.path, statistics)
    if args.timings:
        args.timings.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    if args.fail_on_stop and decision["outcome"] == "STOP":
        print("hetero2: decision STOP and --fail-on-stop given: exit 3", file=sys.stderr)
        return EXIT_STOP
    return EXIT_OK


def run_statistics_path(pack: Path) -> Path:
    """``PACK.run.json`` beside the pack folder: what this run did (time, cache counts); not evidence."""
    return pack.with_name(pack.name + RUN_STATISTICS_SUFFIX)


def write_run_statistics(pack: Path, statistics: dict[str, Any]) -> None:
    with atomic_text_file(run_statistics_path(pack)) as handle:
        handle.write(json.dumps(statistics, indent=2, sort_keys=True) + "\n")


def _cache_facts(args: argparse.Namespace, cache: CacheStats) -> dict[str, Any]:
    if args.no_cache:
        return {"enabled": False}
    return {"enabled": True, "dir": str(_cache_folder(args)), **cache.to_dict()}


def _cache_sentence(args: argparse.Namespace, cache: CacheStats) -> str:
    return "off (--no-cache)" if args.no_cache else f"{cache.sentence()} ({_cache_folder(args)})"


def _cmd_cache(args: argparse.Namespace) -> int:
    store = FolderStore(_cache_folder(args))
    usage = store.clear() if args.action == "clear" else store.usage()
    verb = "removed" if args.action == "clear" else "holds"
    print(f"decoy cache {usage.path} {verb} {usage.entries} entries, {usage.bytes / 1e6:.1f} MB")
    return EXIT_OK


def _cmd_scorers(args: argparse.Namespace) -> int:
    print("built-in: " + ", ".join(SCORER_NAMES))
    plugins = installed_scorers()
    if not plugins:
        print(f"plugins ({SCORER_GROUP}): none installed; or pass --scorer MODULE:FUNCTION")
    for plugin in plugins:
        origin = f"{plugin.distribution} {plugin.version}" if plugin.distribution else "(no distribution)"
        print(f"{plugin.name}\t{plugin.target}\t{origin}")
    return EXIT_OK


def _cmd_decoys(args: argparse.Namespace) -> int:

    with Progress("decoys", quiet=args.quiet) as progress:
        summary = write_decoy_table(
            args.input,
            args.out,
            config=_config(args),
            workers=_workers(args),
            columns=_columns(args),
            on_total=progress.set_total,
            on_progress=progress.advance,
            cache=_decoy_cache(args),
        )
    print(
        f"decoys: {args.out}: {summary.decoys} decoys for {summary.molecules} molecules "
        f"({summary.skipped} rows skipped, {summary.errors} errors; see {summary.report_path.name})\n"
        f"decoy cache: {_cache_sentence(args, summary.cache)}"
    )
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:

    if not args.pack.exists():
        raise ConfigError(f"{args.pack}: no such pack folder or zip")
    key = _read_key(args.public_key) if args.public_key else None
    report = verify_pack(args.pack, key)
    how = {
        "public-key": "signature valid (public key given)",
        "embedded-key": "signature valid against the key "
        "inside the pack (pass --public-key to authenticate the publisher)",
        "unsigned": "pack is not signed",
    }
    print(f"verify: OK: {report.pack}: {report.members_checked} members intact; {how[report.signature_checked_with]}")
    return EXIT_OK


def _cmd_reproduce(args: argparse.Namespace) -> int:
    if not args.pack.exists():
        raise ConfigError(f"{args.pack}: no such pack folder or zip")
    key = _read_key(args.public_key) if args.public_key else None
    result = reproduce_pack(
        args.pack,
        args.input,
        scores_path=args.scores,
        public_key_pem=key,
        allow_version_drift=args.allow_version_drift,
        workers=_workers(args),
    )
    for drift in result.drift:
        print(f"reproduce: version drift allowed: {drift}", file=sys.stderr)
    if result.reproduced:
        print(f"reproduce: REPRODUCED: {args.pack}: {result.members_compared} members identical")
        return EXIT_OK
    print(f"reproduce: DIFFERS: {result.member}: {result.where}")
    return EXIT_VERIFY_FAILED


def _cmd_calibrate(args: argparse.Namespace) -> int:

    created_at = resolve_created_at(args.created_at)
    result = run_calibration(
        args.input,
        args.out,
        config=_config(args),
        created_at=created_at,
        workers=_workers(args),
        quiet=args.quiet,
        columns=_columns(args),
        signer=LocalKeySigner.from_pem_file(args.sign_key) if args.sign_key else None,
        cache=_decoy_cache(args),
    )
    for name, facts in result["separation"].items():
        slack, rate = human_number(facts["delta_median_slack"]), human_number(facts["delta_pass_rate"])
        verdict = "meets" if facts.get("meets_threshold") else "does NOT meet"
        print(f"{name}: Δ median slack {slack}, Δ PASS-rate {rate} ({verdict} the seed's thresholds)")
    power = result["power"]
    detected = power["max_flip_detected"]
    print(
        f"power: chance PASS-rate {human_number(power['expected_chance_pass_rate'])}; a structure-reading model is "
        f"detected (power >= {power['power_target']:g}) up to "
        + (f"{detected:.0%} of its pairs flipped" if detected is not None else "no flip level")
    )
    print(f"calibration pack: {args.out / 'good'} (metrics.json → calibration, report.html)")
    print(f"calibration: {args.out / 'calibration.json'}")
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace) -> int:

    private = generate_private_key_pem()
    out: Path = args.out
    public_path = out.with_name(out.name.removesuffix(".pem") + ".pub.pem")
    for path in (out, public_path):
        if path.exists():
            raise ConfigError(f"{path} exists; refusing to overwrite a key")
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    public_path.write_bytes(public_key_pem_from_private(private))
    print(f"private key: {out} (keep it secret)\npublic key: {public_path} (publish it)")
    return EXIT_OK


def bundled_example() -> Path:
    """The example input shipped inside the package, so the first command works on a fresh machine."""
    return Path(__file__).resolve().parent / "examples" / "approved_drugs.csv"


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read public key: {exc.strerror}") from exc


if __name__ == "__main__":
    sys.exit(main())
