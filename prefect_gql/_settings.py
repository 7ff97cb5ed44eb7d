"""Settings: one typed object, read from four places in a fixed order.

Precedence, highest first:

1. arguments passed to ``Client(...)`` / ``AsyncClient(...)``;
2. environment variables, Prefect's names: ``PREFECT__<SECTION>__<KEY>``
   (``PREFECT__CLOUD__API``, ``PREFECT__CLOUD__API_KEY``, ``PREFECT__BACKEND``...);
3. ``~/.prefect/backend.toml`` (``backend`` only, as ``prefect backend`` writes it) and
   the user config file ``~/.prefect/config.toml`` (``PREFECT__USER_CONFIG_PATH``);
4. Prefect's defaults.

``~/.prefect`` is ``PREFECT__HOME_DIR`` when set. Values in config.toml that still
hold Prefect's ``${...}`` interpolations are ignored (they only make sense inside Prefect).
Which source supplied the server URL and the credentials is logged at DEBUG.

The sources are merged here rather than by pydantic-settings, whose import alone costs
a short-lived process ~45 ms: environment variables are read as pydantic-settings reads
them with ``env_prefix="PREFECT__"``, ``env_nested_delimiter="__"`` and
``case_sensitive=False`` (a section may also be given whole, as a JSON object), and
each source is deep-merged over the ones below it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from ._disk import read_toml_file
from ._exceptions import ConfigurationError
from ._types import Backend
from ._validation import describe_validation_error

__all__ = ["Backend", "CloudSettings", "ServerSettings", "Settings", "load_settings"]

logger = logging.getLogger("prefect_gql")

ENV_PREFIX = "PREFECT__"
DEFAULT_HOME_DIR = "~/.prefect"
CLOUD_ENDPOINT = "https://api.prefect.io"
SERVER_HOST = "http://localhost"
SERVER_PORT = 4200
SERVER_UI_ENDPOINT = "http://localhost:8080"


def expand_path(value: str | os.PathLike[str]) -> Path:
    """``~`` and environment variables expanded, as Prefect's config expands its values.

    Applied to ``home_dir`` and every configured path, whatever their source, so that a
    file is found where Prefect would find it, whichever folder the process runs in.
    Like Prefect, nested variables are expanded again until nothing changes.
    """
    text = os.fspath(value)
    for _ in range(10):
        expanded = os.path.expanduser(os.path.expandvars(text))
        if expanded == text:
            break
        text = expanded
    return Path(text)


ExpandedPath = Annotated[Path, BeforeValidator(expand_path)]
"""A path with ``~`` and environment variables expanded (``expand_path``)."""


class CloudSettings(BaseModel):
    """The ``[cloud]`` table: where the API is and how to authenticate."""

    model_config = ConfigDict(extra="ignore")

    api: str | None = None
    graphql: str | None = None
    """0.12's key for where GraphQL is POSTed; ``api`` wins when both are set."""
    endpoint: str = CLOUD_ENDPOINT
    api_key: SecretStr | None = None
    tenant_id: str | None = None
    auth_token: SecretStr | None = None
    request_timeout: float = 15.0


class ServerUISettings(BaseModel):
    """The ``[server.ui]`` table: where the Prefect Server UI is, for ``get_cloud_url``."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = SERVER_UI_ENDPOINT


class ServerSettings(BaseModel):
    """The ``[server]`` table: where a Prefect Server listens."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str | None = None
    host: str = SERVER_HOST
    port: int = SERVER_PORT
    ui: ServerUISettings = ServerUISettings()


class Settings(BaseModel):
    """Prefect's client-side configuration keys, typed.

    ``Settings(**values)`` reads the sources in precedence order: ``values`` (nested
    dicts), then ``PREFECT__*`` environment variables, then ``backend.toml`` and
    ``config.toml``, then the defaults below.
    """

    model_config = ConfigDict(extra="ignore")

    backend: Backend = "cloud"
    home_dir: ExpandedPath = Field(default=Path(DEFAULT_HOME_DIR), validate_default=True)
    cloud: CloudSettings = CloudSettings()
    server: ServerSettings = ServerSettings()

    def __init__(self, /, **values: Any) -> None:
        merged: dict[str, Any] = {}
        for source in (
            _read_toml(user_config_path()),
            _read_toml(backend_file_path()),
            _environment_values(),
            values,
        ):
            _deep_update(merged, source)
        super().__init__(**merged)

    @property
    def api_server(self) -> str:
        """The URL GraphQL requests go to: ``cloud.api`` (or 0.12's ``cloud.graphql``), else
        the backend's endpoint."""
        if self.cloud.api or self.cloud.graphql:
            return self.cloud.api or str(self.cloud.graphql)
        if self.backend == "server":
            return self.server.endpoint or f"{self.server.host}:{self.server.port}"
        return self.cloud.endpoint


_SECTIONS = ("cloud", "server")
"""Top-level keys holding a table: their variable is a JSON object, and ``__`` descends."""
_NESTED_SECTIONS = {("server", "ui")}


def _environment_values() -> dict[str, Any]:
    """``PREFECT__*`` variables as nested values, read as pydantic-settings reads them.

    Names are case-insensitive; ``PREFECT__CLOUD__API_KEY=k`` is
    ``{"cloud": {"api_key": "k"}}``. A table's own variable (``PREFECT__CLOUD``,
    ``PREFECT__SERVER__UI``) holds a JSON object; for a top-level table, the variables
    naming its keys are merged over it, and within a table later variables replace
    earlier ones in the environment's order, as pydantic-settings does.
    """
    environment = {name.lower(): value for name, value in os.environ.items()}
    prefix = ENV_PREFIX.lower()
    values: dict[str, Any] = {}
    for key in Settings.model_fields:
        value = environment.get(prefix + key)
        if key not in _SECTIONS:
            if value is not None:
                values[key] = value
            continue
        nested = _nested_values(key, environment)
        if value is None:
            if nested:
                values[key] = nested
            continue
        section = _json_section(prefix + key, value)
        values[key] = _deep_update(section, nested) if isinstance(section, dict) else section
    return values


def _nested_values(section: str, environment: dict[str, str]) -> dict[str, Any]:
    """The ``PREFECT__<SECTION>__...`` variables of one table, nested by ``__``."""
    prefix = f"{ENV_PREFIX.lower()}{section}__"
    nested: dict[str, Any] = {}
    for name, value in environment.items():
        if not name.startswith(prefix):
            continue
        *keys, last_key = name[len(prefix) :].split("__")
        node: Any = nested
        for key in keys:
            if isinstance(node, dict):
                node = node.setdefault(key, {})
        parsed: Any = value
        if value and not keys and (section, last_key) in _NESTED_SECTIONS:
            parsed = _json_section(name, value)
        if isinstance(node, dict):
            node[last_key] = parsed
    return nested


def _json_section(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as err:
        raise ConfigurationError(
            f"environment variable {name.upper()} must hold a JSON object: {err}"
        ) from None


def _deep_update(target: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge ``update`` into ``target`` in place, section by section; ``update`` wins."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _deep_update(current, value)
        else:
            target[key] = _copied(value)
    return target


def _copied(value: Any) -> Any:
    return {key: _copied(item) for key, item in value.items()} if isinstance(value, dict) else value


def home_dir() -> Path:
    return expand_path(os.environ.get(f"{ENV_PREFIX}HOME_DIR", DEFAULT_HOME_DIR))


def user_config_path() -> Path:
    configured = os.environ.get(f"{ENV_PREFIX}USER_CONFIG_PATH")
    return expand_path(configured) if configured else home_dir() / "config.toml"


def backend_file_path() -> Path:
    configured = os.environ.get(f"{ENV_PREFIX}BACKEND_CONFIG_PATH")
    return expand_path(configured) if configured else home_dir() / "backend.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    return _without_interpolations(read_toml_file(path, label=f"config file {path}"))


def _without_interpolations(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            cleaned[key] = _without_interpolations(value)
        elif not (isinstance(value, str) and "${" in value):
            cleaned[key] = value
    return cleaned


def _source_of(path: tuple[str, ...], arguments: dict[str, Any]) -> str:
    """Name the highest-precedence source that sets ``path`` (e.g. ``("cloud", "api")``)."""
    node: Any = arguments
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if node is not None:
        return "argument"
    env_name = ENV_PREFIX + "__".join(part.upper() for part in path)
    if any(name.upper() == env_name for name in os.environ):
        return f"environment variable {env_name}"
    for file in (backend_file_path(), user_config_path()):
        node = _read_toml(file)
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return f"config file {file}"
    return "default"


def load_settings(**arguments: Any) -> Settings:
    """Build ``Settings`` from arguments (nested dicts, ``None`` meaning unset) and the rest.

    Logs at DEBUG which source won for the API server and each credential, never
    the values of credentials.
    """
    given = _drop_none(arguments)
    try:
        settings = Settings(**given)
    except ValidationError as err:
        problems = describe_validation_error(err)
        # Not chained: pydantic's error text would carry the raw input, credentials included.
        raise ConfigurationError(f"invalid prefect_gql settings: {problems}") from None
    if not logger.isEnabledFor(logging.DEBUG):
        return settings
    # Naming the sources reads the config files again: only worth it when it is logged.
    logger.debug(
        "api_server %s from %s; backend %s from %s",
        settings.api_server,
        _source_of(("cloud", "api"), given),
        settings.backend,
        _source_of(("backend",), given),
    )
    for key in ("api_key", "auth_token", "tenant_id"):
        if getattr(settings.cloud, key) is not None:
            logger.debug("cloud.%s from %s", key, _source_of(("cloud", key), given))
    return settings


def _drop_none(arguments: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in arguments.items():
        if isinstance(value, dict):
            nested = _drop_none(value)
            if nested:
                cleaned[key] = nested
        elif value is not None:
            cleaned[key] = value
    return cleaned
