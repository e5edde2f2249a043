# One image for api, worker and nlp; the command picks the process (see docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
COPY workflows ./workflows
COPY models ./models
RUN pip install --no-cache-dir -c requirements.lock --extra-index-url https://download.pytorch.org/whl/cpu -e .
# the worker runs as a non-root user on a read-only tree: cache the workflow modules' bytecode at build
# time (the workflow sandbox re-imports them for every workflow run)
RUN python -m compileall -q workflows src
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false CREDITFLOW_VAR_DIR=/var/lib/creditflow
RUN useradd --system --uid 10001 creditflow && mkdir -p /var/lib/creditflow && chown creditflow /var/lib/creditflow
USER creditflow
ENTRYPOINT ["creditflow"]
