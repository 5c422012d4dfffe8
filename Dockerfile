FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# uWSGI (the web server) compiles at install: gcc only for that step.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e ".[server]" 2>/dev/null || true
COPY . .
RUN pip install --no-cache-dir -e ".[server]" && python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["uwsgi", "deploy/uwsgi.ini"]
