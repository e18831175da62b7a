"""The local AWS for ``hetero2 serve``: a moto server in its own process, executing the real state machine with
our Lambda handlers in-process (see ``functions/local/stack.py``).

Its own process, so that nothing else in the caller's process (a test's ``mock_aws`` resetting moto's global
state, say) can touch it. On start it provisions everything and prints one JSON line with the settings; it runs
until killed. ``python -m functions.local.backend --port P [--max-concurrency N] [--chunk-seconds S]
[--min-chunk-rows N]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

REGION = "us-east-1"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.local.backend")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-concurrency", type=int, default=2)
    parser.add_argument("--chunk-seconds", type=float, help="seconds of work per chunk (default: the deployment's)")
    parser.add_argument("--min-chunk-rows", type=int, help="fewest rows in a chunk (default: the deployment's)")
    args = parser.parse_args(argv)
    endpoint = f"http://127.0.0.1:{args.port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "MOTO_PORT": str(args.port),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    import boto3  # noqa: PLC0415 - after the environment is set
    from moto.awslambda.models import LambdaFunction  # noqa: PLC0415
    from moto.core.config import default_user_config  # noqa: PLC0415
    from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415
    from moto.s3.responses import S3Response  # noqa: PLC0415
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    from functions.local import stack as local_stack  # noqa: PLC0415
    from functions.service.context import ServiceContext, reset_service_context  # noqa: PLC0415

    def invoke(function: Any, event: Any = None) -> tuple[str, bool, str]:
        return local_stack.invoke_in_process(function.function_name, event)

    LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign,assignment]
    DynamoHandler.call_action = local_stack.serialised(DynamoHandler.call_action)  # type: ignore[method-assign]
    S3Response._key_response = _answer_preflight(S3Response._key_response)  # type: ignore[method-assign]
    default_user_config["stepfunctions"] = {"execute_state_machine": True}

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    session = boto3.session.Session(region_name=REGION)
    settings = local_stack.provision(session, REGION, max_concurrency=args.max_concurrency)
    if args.chunk_seconds is not None:
        settings = replace(settings, chunk_seconds=args.chunk_seconds)
    if args.min_chunk_rows is not None:
        settings = replace(settings, min_chunk_rows=args.min_chunk_rows)
    reset_service_context(ServiceContext(settings, session))
    print(json.dumps({"endpoint": endpoint, "settings": asdict(settings)}), flush=True)
    # Nobody reads our stdout after that line: the handlers' log lines go to stderr (shown with --verbose, else
    # discarded), never into a pipe that fills up and blocks the next write.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parent = os.getppid()
    try:
        while os.getppid() == parent:  # the server that started us is gone: do not linger as an orphan
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
    return 0


def _answer_preflight(key_response: Any) -> Any:
    """S3 answers a browser's CORS preflight (OPTIONS) of a presigned URL from the bucket's CORS rules alone;
    moto checks the URL's signature against OPTIONS first and refuses. The web dashboard uploads from the page."""

    def answer(self: Any, request: Any, full_url: str) -> Any:
        if request.method == "OPTIONS":
            return self._response_options(request.headers, self.parse_bucket_name_from_url(request, full_url))
        return key_response(self, request, full_url)

    return answer


if __name__ == "__main__":
    sys.exit(main())
