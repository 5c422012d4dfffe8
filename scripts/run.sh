#!/usr/bin/env bash
# Starts web (uvicorn: pages and the chat's WebSockets), a Celery worker and beat;
# one Ctrl-C (or SIGTERM) stops all three within a few seconds, even while the
# worker is busy.
set -euo pipefail
# Each service in a process group of its own: a Ctrl-C in the terminal reaches
# this script only, which stops them in order (a worker that got the terminal's
# SIGINT itself would wait in warm shutdown for its running tasks to finish).
set -m
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
# Seconds the worker gets to finish its running tasks before a cold shutdown.
GRACE=${STOP_GRACE_SECONDS:-2}
# Web and worker alike build short links from the public address: unless
# SITE_URL says otherwise it is this server's own port (cabinet/settings.py).
export PORT
export SITE_URL=${SITE_URL:-http://127.0.0.1:${PORT}}
pids=()

running() {
  local pid
  for pid in "${pids[@]}"; do
    kill -0 -- "-$pid" 2>/dev/null && return 0
  done
  return 1
}

signal_all() {
  local pid
  for pid in "${pids[@]}"; do kill "-$1" "$pid" 2>/dev/null || true; done
}

wait_stopped() {
  local deadline=$((SECONDS + $1))
  while running && ((SECONDS < deadline)); do sleep 0.1; done
}

cleanup() {
  trap - INT TERM EXIT
  echo "Stopping web, worker and beat..." >&2
  # Web and beat stop at once; the worker starts a warm shutdown.
  signal_all TERM
  wait_stopped "$GRACE"
  # Cold shutdown: the worker stops its running tasks and puts their messages
  # back (tasks acknowledge late; a dispatch claim is re-claimed when stale and
  # the gateway de-duplicates by message id, so nothing is sent twice).
  signal_all QUIT
  wait_stopped 2
  local pid
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$PY" -m celery -A cabinet worker --loglevel=INFO --concurrency=2 &
pids+=($!)
"$PY" -m celery -A cabinet beat --loglevel=INFO &
pids+=($!)
echo "Cabinet: http://127.0.0.1:${PORT}/  (demo@example.com / demo12345)"
# One ASGI server for the pages and the online chat's WebSockets (docs/CHAT.md).
"$PY" -m uvicorn cabinet.asgi:application --host 127.0.0.1 --port "$PORT" \
  --lifespan off --ws-max-size 65536 --timeout-graceful-shutdown 1 &
pids+=($!)
wait -n
