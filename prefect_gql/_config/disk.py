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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import SecretStr

from .._exceptions import ConfigurationError

__all__ = [
    "AUTH_FILE_HEADER",
    "api_token_settings_path",
    "auth_file_path",
    "auth_table_key",
    "load_api_token_settings",
    "load_auth_table",
    "read_toml_file",
    "save_api_token_settings",
    "save_auth_table",
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


def read_toml_file(path: Path, *, label: str | None = None) -> dict[str, Any]:
    """The file's tables, or ``{}`` when it does not exist.

    A file that cannot be read or parsed is a ``ConfigurationError`` naming ``label``
    (default: the path). tomllib is imported only once a file exists: most processes
    find none to read.
    """
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ConfigurationError(f"cannot read {label or path}: {err}") from err
    import tomllib  # noqa: PLC0415 - only once there is a file to parse

    with file:
        try:
            return tomllib.load(file)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigurationError(f"cannot read {label or path}: {err}") from err


def write_private_toml(path: Path, data: dict[str, Any], *, header: str = "") -> None:
    """Write ``data`` as TOML, readable by the owner only, replacing the file atomically."""
    import tomli_w  # noqa: PLC0415 - only processes that save credentials need it

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


def load_api_token_settings(home: Path, api_server: str) -> tuple[SecretStr | None, str | None]:
    """The 0.12 API token file's token and active tenant id, if the file has them."""
    settings = read_toml_file(api_token_settings_path(home, api_server))
    token = settings.get("api_token")
    tenant = settings.get("active_tenant_id")
    return (
        SecretStr(token) if isinstance(token, str) else None,
        tenant if isinstance(tenant, str) else None,
    )


def save_api_token_settings(
    home: Path, api_server: str, api_token: SecretStr, active_tenant_id: str | None
) -> None:
    """Write the 0.12 API token and the tenant it is logged in to (mode 0600)."""
    path = api_token_settings_path(home, api_server)
    settings = read_toml_file(path)
    settings["api_token"] = api_token.get_secret_value()
    if active_tenant_id:
        settings["active_tenant_id"] = active_tenant_id
    else:
        settings.pop("active_tenant_id", None)
    write_private_toml(path, settings)


def load_auth_table(home: Path, api_server: str) -> dict[str, str]:
    """This API server's table of ``auth.toml`` (``{}`` if none)."""
    table = read_toml_file(auth_file_path(home)).get(auth_table_key(api_server), {})
    if not isinstance(table, dict):
        return {}
    return {str(key): str(value) for key, value in table.items()}


def save_auth_table(home: Path, api_server: str, api_key: SecretStr, tenant_id: str | None) -> None:
    """Write the API key and tenant of this API server to ``auth.toml`` (mode 0600), as 1.4.1."""
    path = auth_file_path(home)
    contents = read_toml_file(path)
    table: dict[str, str] = {"api_key": api_key.get_secret_value()}
    if tenant_id:
        table["tenant_id"] = tenant_id
    contents[auth_table_key(api_server)] = table
    write_private_toml(path, contents, header=AUTH_FILE_HEADER)
