# Worker image: the RDKit engine + the service layer, for the Plan/RunChunk/Finalize Lambdas and the Fargate task.
# Build context is the repository root:  docker build -f functions/worker.Dockerfile -t hetero2-worker .
# One image, two runtimes: Lambda sets CMD to a handler (functions.handlers.run_chunk.handler, ...);
# the Fargate task overrides the entrypoint with `python -m functions.fargate_worker`.
FROM public.ecr.aws/lambda/python:3.12

# Dependencies first so a code change does not re-download RDKit (~60 MB wheel).
COPY pyproject.toml README.md ${LAMBDA_TASK_ROOT}/
COPY hetero_core ${LAMBDA_TASK_ROOT}/hetero_core
COPY functions ${LAMBDA_TASK_ROOT}/functions
RUN pip install --no-cache-dir "${LAMBDA_TASK_ROOT}[service]" --target "${LAMBDA_TASK_ROOT}" \
    && python -m compileall -q "${LAMBDA_TASK_ROOT}"

CMD ["functions.handlers.run_chunk.handler"]
