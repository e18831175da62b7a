"""Write the API's OpenAPI document (generated from the routes and models): ``python -m functions.api.openapi``.

``docs/openapi.json`` is this output; tests/api/test_openapi.py keeps the two equal.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def render() -> str:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "hetero2")
    from functions.api.app import openapi_document  # noqa: PLC0415 - after the environment is set

    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
