#!/usr/bin/env bash
# Starts web, a Celery worker and beat; one Ctrl-C stops all three.
set -euo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
# Web and worker alike build short links from the public address: unless
# SITE_URL says otherwise it is this server's own port (cabinet/settings.py).
export PORT
export SITE_URL=${SITE_URL:-http://127.0.0.1:${PORT}}
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
"$PY" -m celery -A cabinet worker --loglevel=INFO --concurrency=2 &
pids+=($!)
"$PY" -m celery -A cabinet beat --loglevel=INFO &
pids+=($!)
echo "Cabinet: http://127.0.0.1:${PORT}/  (demo@example.com / demo12345)"
"$PY" manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
wait -n
