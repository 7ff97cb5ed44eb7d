#!/usr/bin/env bash
# The main job: set up, start the embedded local API server in the background,
# run examples/quickstart.py against it, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

port=${PORT:-$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
.venv/bin/prefect-gql server --host 127.0.0.1 --port "$port" --db :memory: > .venv/demo-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if .venv/bin/python -c "import httpx, sys; sys.exit(httpx.get('http://127.0.0.1:$port/health').status_code != 200)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    cat .venv/demo-server.log >&2
    exit 1
  fi
  sleep 0.1
done

PREFECT__BACKEND=server PREFECT__CLOUD__API="http://127.0.0.1:$port" .venv/bin/python examples/quickstart.py
