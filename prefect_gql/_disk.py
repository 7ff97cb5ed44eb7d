"""Credentials on disk, in the files and layout the Prefect CLI uses.

- 0.12 API tokens: ``{home}/client/{slug(api_server)}/settings.toml`` with ``api_token``
  and ``active_tenant_id`` (JWTs are never written).
- 1.x API keys: ``{home}/auth.toml``, one table per API host (``slug(netloc)``) with
  ``api_key`` and ``tenant_id``.

Files holding credentials are written atomically with mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tomli_w

from ._exceptions import ConfigurationError

__all__ = [
    "AUTH_FILE_HEADER",
    "api_token_settings_path",
    "auth_file_path",
    "auth_table_key",
    "read_toml_file",
    "server_slug",
    "write_private_toml",
]

AUTH_FILE_HEADER = (
    "# This file is auto-generated and should not be manually edited\n"
    "# Update the Prefect config or use the CLI to login instead\n\n"
)
_NOT_SLUG_CHARS = re.compile(r"[^-\.a-z0-9]+")


def server_slug(text: str) -> str:
    """Prefect's ``slugify(text, regex_pattern=r"[^-\\.a-z0-9]+")`` for ASCII URLs."""
    return _NOT_SLUG_CHARS.sub("-", text.lower()).strip("-")


def api_token_settings_path(home: Path, api_server: str) -> Path:
    return home / "client" / server_slug(api_server) / "settings.toml"


def auth_file_path(home: Path) -> Path:
    return home / "auth.toml"


def auth_table_key(api_server: str) -> str:
    return server_slug(urlparse(api_server).netloc or api_server)


def read_toml_file(path: Path) -> dict[str, Any]:
    """The file's tables, or ``{}`` when it does not exist."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigurationError(f"cannot read {path}: {err}") from err


def write_private_toml(path: Path, data: dict[str, Any], *, header: str = "") -> None:
    """Write ``data`` as TOML, readable by the owner only, replacing the file atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(header)
            file.write(tomli_w.dumps(data))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
