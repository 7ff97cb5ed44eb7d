#!/usr/bin/env bash
# The test command: lint, format check, strict typing, then the whole test suite
# (wire-level, end-to-end against the embedded server, codegen freshness) with coverage.
# PYTHON and VENV choose the interpreter and environment as in scripts/setup.sh, e.g.
#   PYTHON=python3.13 VENV=.venv-3.13 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
venv=${VENV:-.venv}

"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy"
"$venv/bin/pytest" --cov --cov-report=term --cov-fail-under=85 "$@"
