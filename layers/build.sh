#!/usr/bin/env bash
# Build the control-plane layer into layers/control_plane/build/python (the layout Lambda expects).
# Needs only pip; wheels are chosen for the Lambda platform (manylinux2014 x86_64, Python 3.12), so the
# result is right even when built on another OS. Run before `cdk deploy`; synth works without it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/control_plane/build/python"
rm -rf "$here/control_plane/build"
mkdir -p "$out"
python3 -m pip install --quiet --requirement "$here/control_plane/requirements.txt" --target "$out" \
    --platform manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all:
find "$out" -name "__pycache__" -type d -prune -exec rm -rf {} +
du -sh "$here/control_plane/build"
