# The API in a container. The tested path is the Makefile (`make run`); this image mirrors it.

# Stage 1: the browser files the pages serve (Leaflet, Swagger UI), installed from the npm
# registry by the same script `make install` runs; app/static/vendor is git-ignored, so a clean
# clone has none (tests/test_docker.py checks this stage makes every file the pages reference).
FROM node:20-bookworm-slim AS vendor
WORKDIR /build
COPY frontend/package.json frontend/package-lock.json ./frontend/
COPY scripts/vendor.sh ./scripts/
RUN bash scripts/vendor.sh

# Stage 2: the service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    ASSETMAP_HOST=0.0.0.0 PORT=8000 \
    ASSETMAP_DATA_DIR=/data/kirklees-data

RUN useradd --create-home --uid 10001 assetmap
# WeasyPrint (the printable leaflets) needs Pango; Noto fonts shape Urdu and Punjabi.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/assetmap
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY --from=vendor /build/app/static/vendor ./app/static/vendor
COPY boundaries ./boundaries
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . \
    && pybabel compile -D messages -d app/i18n/locale

# the development referral key's folder (docker-compose mounts a volume here; production sets
# ASSETMAP_REFERRAL_KEY instead)
RUN mkdir /secrets && chown assetmap /secrets
ENV ASSETMAP_REFERRAL_KEY_FILE=/secrets/referral.key
USER assetmap
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health/live', timeout=3)"
# Migrate and load (both skip work already done), then serve.
CMD ["sh", "-c", "assetmap db upgrade && assetmap load all && assetmap serve --host 0.0.0.0"]
