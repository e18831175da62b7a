"""The evidence pack's layout and column contracts (SPEC §6, §7): one place, everything imports it.

Changing the meaning of a column here is a public-contract change: it needs a new schema version.
"""

from __future__ import annotations

SUMMARY = "summary.csv"
DECOYS = "decoys.csv"
METRICS = "metrics.json"
INDEX = "index.md"
REPORT = "report.html"
MANIFEST = "manifest.json"
CHECKSUMS = "checksums.sha256"
ZIP = "evidence_pack.zip"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing_public_key.pem"

# Members that every pack has; the signature pair is optional.
REQUIRED_MEMBERS: tuple[str, ...] = (SUMMARY, DECOYS, METRICS, INDEX, REPORT, MANIFEST, CHECKSUMS)
OPTIONAL_MEMBERS: tuple[str, ...] = (SIGNATURE, PUBLIC_KEY)

# v2 lists summary.csv and decoys.csv by slice (size and sha256 of each), so workers can hash what they write;
# v1 packs (one sha256 per member) still verify.
MANIFEST_SCHEMA = "hetero_manifest.v2"
MANIFEST_SCHEMAS: tuple[str, ...] = ("hetero_manifest.v1", MANIFEST_SCHEMA)
# hetero_audit.v2 packs still verify (verify reads no audit field) and render (the report falls back field by field)
AUDIT_SCHEMA = "hetero_audit.v3"
DECOYS_SCHEMA = "decoys.v2"
# v2 appended ``decoy_rejections``; v1 packs (decoys.v1, hetero_summary.v1) still verify, verification never
# depended on these names.
SUMMARY_SCHEMA = "hetero_summary.v2"

DESCRIPTOR_NAMES: tuple[str, ...] = ("mw", "logp", "tpsa", "hbd", "hba", "heavy_atoms", "rings", "aromatic_rings")

SUMMARY_COLUMNS: tuple[str, ...] = (
    "id",
    "status",
    "reason",
    "verdict",
    "auc",
    "gate",
    "slack",
    "margin",
    "n_decoys",
    "n_decoys_scored",
    "decoy_strategy",
    "seed_used",
    "warnings",
    "null_q",
    "perm_q",
    "score_original",
    "smiles",
    "canonical_smiles",
    *DESCRIPTOR_NAMES,
    *(f"mean_abs_delta_{name}" for name in DESCRIPTOR_NAMES),
    "tanimoto_min",
    "tanimoto_median",
    "spectral_gap",
    "spectral_entropy",
    "decoy_rejections",
)

# Extra input columns are appended after the fixed ones with this prefix, in input header order.
EXTRA_COLUMN_PREFIX = "input_"

DECOY_COLUMNS: tuple[str, ...] = ("molecule_id", "role", "hash", "smiles")
SCORED_DECOY_COLUMNS: tuple[str, ...] = (*DECOY_COLUMNS, "score", "weight")

# Score columns are written at full precision (shortest round-trip repr), every other number to 6 digits:
# a third party recomputes each AUC and verdict from these cells (SPEC §4).
EXACT_COLUMNS: frozenset[str] = frozenset({"score", "weight", "score_original"})
