#!/usr/bin/env bash
# Re-lock and export: uv.lock from pyproject.toml's ranges, then the two pinned, hashed requirement files that the
# deploy artifacts install with pip (they have no uv): the worker image and the control-plane layer.
#   scripts/lock.sh                     keep the locked versions, re-resolve only what pyproject.toml changed
#   scripts/lock.sh --upgrade           newest versions within the ranges (what scripts/relock-and-test.sh does)
#   scripts/lock.sh --upgrade-package X newest X only
#   scripts/lock.sh --check             change nothing; fail if uv.lock or an export is stale (a test runs this)
set -euo pipefail
cd "$(dirname "$0")/.."

uv="${UV:-$(command -v .venv/bin/uv || command -v uv || true)}"
if [ -z "$uv" ]; then
    echo "error: uv not found; run the README's set-up (it installs uv into .venv) or set UV=/path/to/uv" >&2
    exit 2
fi
export UV_PYTHON_DOWNLOADS=never  # never fetch a Python; use the one that is here

WORKER_EXPORT=functions/worker.requirements.txt
CHUNK_EXPORT=functions/chunk.requirements.txt
LAYER_EXPORT=layers/control_plane/requirements.txt

# The worker image: the engine and the service extra (boto3 included: the image pins its own).
export_worker() { "$uv" export --frozen --no-default-groups --extra service --no-emit-project --format requirements-txt "$@"; }
# The lean chunk image (worker.Dockerfile's `chunk` target): the same, less what only the report and parquet need.
export_chunk() { export_worker --prune matplotlib --prune pyarrow; }
# The control-plane layer: Powertools, pydantic, PyJWT (the `control-plane` group; boto3 is in the Lambda runtime).
export_layer() { "$uv" export --frozen --only-group control-plane --no-emit-project --format requirements-txt; }

if [ "${1:-}" = "--check" ]; then
    "$uv" lock --check
    status=0
    diff -u "$WORKER_EXPORT" <(export_worker) || status=1
    diff -u "$CHUNK_EXPORT" <(export_chunk) || status=1
    diff -u "$LAYER_EXPORT" <(export_layer) || status=1
    if [ "$status" -ne 0 ]; then
        echo "error: an export is stale; run scripts/lock.sh and commit the result" >&2
    fi
    exit "$status"
fi

"$uv" lock "$@"
export_worker >"$WORKER_EXPORT"
export_chunk >"$CHUNK_EXPORT"
export_layer >"$LAYER_EXPORT"
echo "locked: uv.lock, $WORKER_EXPORT, $CHUNK_EXPORT, $LAYER_EXPORT"
