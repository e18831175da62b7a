# Worker images: the RDKit engine + the service layer. Build context is the repository root. Two targets:
#   chunk  the RunChunk Lambda: only what chunk work imports (no matplotlib, no pyarrow and what only they need;
#          functions/chunk.requirements.txt). docker build -f functions/worker.Dockerfile --target chunk .
#   full   (the default, last stage) the Plan and Finalize Lambdas and the Fargate task: Plan reads .scores.parquet
#          (pyarrow), Finalize draws the report (matplotlib). docker build -f functions/worker.Dockerfile .
# Lambda sets CMD to a handler (functions.handlers.run_chunk.handler, ...); the Fargate task overrides the
# entrypoint with `python -m functions.handlers.fargate_worker`.
#
# Base image pinned by digest: public.ecr.aws/lambda/python:3.12 as AWS served it on 2026-10-05 (Python 3.12.15,
# Amazon Linux 2023.12.20260914). Re-resolve when moving on (the functions and the task are X86_64, infra_cdk/compute.py):
#   docker buildx imagetools inspect public.ecr.aws/lambda/python:3.12
FROM public.ecr.aws/lambda/python:3.12@sha256:517bcc7dc1a3ba62e324961c1563cc54a2bd6dc1060188f9d376211ecb7b2926 AS base

# Dependencies first, from the lock (the requirement files are `uv export` of uv.lock, with hashes: scripts/lock.sh),
# so a code change reuses this layer and does not re-download RDKit (~60 MB wheel).
FROM base AS chunk
COPY functions/chunk.requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
        --requirement /tmp/requirements.txt --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/requirements.txt
# Then the code; .pyc precompiled at build time (importing rdkit.Chem cold is 40-400 ms).
COPY hetero_core ${LAMBDA_TASK_ROOT}/hetero_core
COPY functions ${LAMBDA_TASK_ROOT}/functions
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}"
CMD ["functions.handlers.run_chunk.handler"]

FROM base AS full
COPY functions/worker.requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
        --requirement /tmp/requirements.txt --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/requirements.txt
COPY hetero_core ${LAMBDA_TASK_ROOT}/hetero_core
COPY functions ${LAMBDA_TASK_ROOT}/functions
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}"
CMD ["functions.handlers.plan.handler"]
