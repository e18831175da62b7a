#!/usr/bin/env bash
# Build the control-plane layer into layers/control_plane/build/python (the layout Lambda expects).
# Installs exactly what uv.lock pins, with hashes: layers/control_plane/requirements.txt is its export
# (scripts/lock.sh writes it; the `control-plane` group in pyproject.toml says what is in it).
# Needs only pip; wheels are chosen for the Lambda platform (x86_64, Python 3.12, Amazon Linux 2023's glibc 2.34),
# so the result is right even when built on another OS. Run before `cdk deploy`; synth works without it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/control_plane/build/python"
rm -rf "$here/control_plane/build"
mkdir -p "$out"
python3 -m pip install --quiet --require-hashes --no-deps --requirement "$here/control_plane/requirements.txt" \
    --target "$out" --implementation cp --python-version 3.12 --only-binary=:all: \
    --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64
find "$out" -name "__pycache__" -type d -prune -exec rm -rf {} +
du -sh "$here/control_plane/build"
