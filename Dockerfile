# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.12-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libjpeg62-turbo libwebp7 zlib1g curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

COPY . .
RUN groupadd --system solomo && useradd --system --gid solomo --home /app solomo \
    && mkdir -p /app/media /app/staticfiles /app/sent-messages \
    && SECRET_KEY=build-only-collectstatic-key-0123456789abcdefghijklmnopqrstuvwxyz \
       ALLOWED_HOSTS=build SITE_URL=http://build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       EMAIL_URL=filemail:////tmp/build-mail SMS_BACKEND=file \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R solomo:solomo /app/media /app/staticfiles /app/sent-messages

USER solomo
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/health/ || exit 1
# Oscar's missing-image placeholder into the media volume first (shop/catalogue/missing_image.py).
CMD ["sh", "-c", "python manage.py missing_image_install && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers 3 --access-logfile -"]
