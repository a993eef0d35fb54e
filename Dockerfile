# Production image: gunicorn for web, the same image runs Celery worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WACO_ENV=production \
    PORT=8000

WORKDIR /app
RUN groupadd --system waco && useradd --system --gid waco --home /app waco

COPY pyproject.toml README.md ./
COPY manage.py ./
COPY waco ./waco
COPY conversations ./conversations
COPY catalog ./catalog
COPY templates_lib ./templates_lib
COPY checkout ./checkout
COPY outbound ./outbound
RUN pip install . && pip uninstall -y waco && rm -rf /root/.cache

# collectstatic reads production's settings (so no sandbox file: the sandbox is not installed,
# and .dockerignore leaves it out of the image) but needs no secret or service: these
# stand-ins, long enough for production's checks, exist only for this step.
RUN WACO_ENV=production DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build REDIS_URL=redis://127.0.0.1:6379/0 \
    DJANGO_SECRET_KEY=build-only-stand-in-not-a-secret-0123456789abcdefghij \
    WACO_FIELD_ENCRYPTION_KEY=build-only-stand-in-not-a-secret-0123 \
    WACO_META_APP_SECRET=build-only-stand-in WACO_META_VERIFY_TOKEN=build-only-stand-in \
    WACO_STRIPE_SECRET_KEY=build-only-stand-in WACO_STRIPE_WEBHOOK_SECRET=build-only-stand-in \
    python manage.py collectstatic --noinput \
    && chown -R waco:waco /app

USER waco
EXPOSE 8000
# Override the command for the other roles, e.g.
#   celery -A waco worker -Q ingest,service --concurrency 4
#   celery -A waco worker -Q marketing --concurrency 2
#   celery -A waco worker -Q maintenance --concurrency 1
#   celery -A waco worker -Q webhooks --concurrency 2
#   celery -A waco beat
CMD ["sh", "-c", "gunicorn waco.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-4} --access-logfile -"]
