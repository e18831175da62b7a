# Worker image: the RDKit engine + the service layer, for the Plan/RunChunk/Finalize Lambdas and the Fargate task.
# Build context is the repository root:  docker build -f functions/worker.Dockerfile -t hetero2-worker .
# One image, two runtimes: Lambda sets CMD to a handler (functions.handlers.run_chunk.handler, ...);
# the Fargate task overrides the entrypoint with `python -m functions.fargate_worker`.
#
# Base image pinned by digest: public.ecr.aws/lambda/python:3.12 as AWS served it on 2026-10-05 (Python 3.12.15,
# Amazon Linux 2023.12.20260914). Re-resolve when moving on (the functions and the task are X86_64, infra_cdk/compute.py):
#   docker buildx imagetools inspect public.ecr.aws/lambda/python:3.12
FROM public.ecr.aws/lambda/python:3.12@sha256:517bcc7dc1a3ba62e324961c1563cc54a2bd6dc1060188f9d376211ecb7b2926

# Dependencies first, from the lock (functions/worker.requirements.txt is `uv export` of uv.lock, with hashes),
# so a code change reuses this layer and does not re-download RDKit (~60 MB wheel).
COPY functions/worker.requirements.txt /tmp/worker.requirements.txt
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
        --requirement /tmp/worker.requirements.txt --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/worker.requirements.txt

# Then the code; .pyc precompiled at build time (importing rdkit.Chem cold is 40-400 ms).
COPY hetero_core ${LAMBDA_TASK_ROOT}/hetero_core
COPY functions ${LAMBDA_TASK_ROOT}/functions
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}"

CMD ["functions.handlers.run_chunk.handler"]
