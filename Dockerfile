# syntax=docker/dockerfile:1
# Multi-stage build: the builder installs the project with the README's scripts/bootstrap into
# /app/.venv; the runtime image copies it and runs gunicorn as an unprivileged user.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY pyproject.toml README.md LICENSE manage.py ./
COPY scripts/ scripts/
COPY phonoglyph/ phonoglyph/
COPY accounts/ accounts/
COPY media/ media/
COPY analysis/ analysis/
COPY billing/ billing/
COPY monitoring/ monitoring/
COPY core/ core/
COPY telemetry/ telemetry/
COPY engine/ engine/
COPY deploy/ deploy/
RUN scripts/bootstrap

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=phonoglyph.settings
RUN groupadd --system phonoglyph && useradd --system --gid phonoglyph --home /app phonoglyph
WORKDIR /app
COPY --from=builder /app /app
COPY templates/ templates/
COPY static/ static/
# collectstatic needs settings to load; the build-time key never reaches a running container.
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
    && mkdir -p /app/var /tmp/prometheus \
    && chown -R phonoglyph:phonoglyph /app/var /app/staticfiles /tmp/prometheus
USER phonoglyph
EXPOSE 8000
# Sync workers must sit behind the buffering proxy of deploy/nginx.conf (docker-compose's
# `proxy`): a slow client talking to gunicorn directly pins a worker.
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py"]
