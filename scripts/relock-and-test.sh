#!/usr/bin/env bash
# The periodic job: would the newest versions that pyproject.toml's ranges allow still pass?
# In a temporary copy of the checkout (tracked files as they are in the work tree; the checkout is not changed):
# re-lock with --upgrade, install from that lock into a fresh .venv, then lint, types, the README smoke command and
# the tests. Prints which versions moved. On success, bring the new lock home with `scripts/lock.sh --upgrade`
# (same resolution, same day) and commit uv.lock and the exports.
#   scripts/relock-and-test.sh                 everything
#   scripts/relock-and-test.sh -- -m slow      extra pytest arguments after --
#   KEEP=1 scripts/relock-and-test.sh          keep the temporary copy (its path is printed)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
pytest_args=()
if [ "${1:-}" = "--" ]; then
    shift
    pytest_args=("$@")
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/hetero2-relock.XXXXXX")"
if [ "${KEEP:-0}" != "1" ]; then
    trap 'rm -rf "$work"' EXIT
fi
echo "== copy of $repo in $work"
# Tracked and new (not ignored) files; a tracked file deleted in the work tree stays out.
git -C "$repo" ls-files -z --cached --others --exclude-standard \
    | tar -C "$repo" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$work" -xf -
cd "$work"

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=.venv
uv_version="$(sed -n 's/^UV_VERSION := //p' Makefile)"
"${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install --quiet "uv==$uv_version"

locked_versions() { .venv/bin/uv export --frozen --all-extras --all-groups --no-hashes --no-annotate --no-header \
    --no-emit-project --format requirements-txt 2>/dev/null; }
before="$(locked_versions)"
echo "== re-lock: the newest versions within the ranges"
UV=.venv/bin/uv scripts/lock.sh --upgrade
echo "== versions that moved (- locked now, + newest)"
moved="$(diff <(echo "$before") <(locked_versions) || true)"
if [ -n "$moved" ]; then
    grep '^[<>]' <<<"$moved" | sed 's/^</-/; s/^>/+/'
else
    echo "(none)"
fi

echo "== install, lint, types, smoke, tests on the new lock"
.venv/bin/uv sync --locked --inexact --extra dev
make lint types smoke
status=0
.venv/bin/pytest "${pytest_args[@]}" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no test" >&2
fi
if [ "$status" -eq 0 ]; then
    echo "== the newest versions pass; scripts/lock.sh --upgrade in the checkout brings them in"
fi
exit "$status"
