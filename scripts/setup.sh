#!/usr/bin/env bash
# Create the virtual environment from pyproject.toml: the package (editable) with its
# server, codegen and cli extras, and the `test` dependency group.
# PYTHON picks the interpreter (default python3), VENV the folder (default .venv), e.g.
#   PYTHON=python3.13 VENV=.venv-3.13 bash scripts/setup.sh
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=${VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp=$venv/.prefect-gql-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  # --group (PEP 735 dependency groups) needs pip 25.1.
  "$venv/bin/python" -m pip install --quiet --upgrade 'pip>=25.1'
  "$venv/bin/python" -m pip install --quiet -e '.[server,codegen,cli]' --group test
  echo "$wanted" > "$stamp"
fi
