"""Settings precedence: arguments > environment > ~/.prefect files > defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from prefect_gql import Client, ConfigurationError, Settings, load_settings
from prefect_gql._disk import server_slug
from prefect_gql._settings import backend_file_path, user_config_path

from .conftest import SECRET_SENTINEL, TENANT_ID


def write_config(home: Path, text: str, name: str = "config.toml") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_text(text)


def test_defaults_follow_the_backend() -> None:
    assert load_settings().api_server == "https://api.prefect.io"
    assert load_settings(backend="server").api_server == "http://localhost:4200"


def test_config_file_then_environment_then_arguments(
    isolated_prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        isolated_prefect_home,
        'backend = "server"\n[server]\nport = 4300\n[cloud]\nrequest_timeout = 3\n',
    )
    assert load_settings().api_server == "http://localhost:4300"
    assert load_settings().cloud.request_timeout == 3

    monkeypatch.setenv("PREFECT__CLOUD__API", "http://from-env:1")
    assert load_settings().api_server == "http://from-env:1"

    assert load_settings(cloud={"api": "http://from-arg:2"}).api_server == "http://from-arg:2"


def test_backend_file_overrides_config_file(isolated_prefect_home: Path) -> None:
    write_config(isolated_prefect_home, 'backend = "cloud"\n')
    write_config(isolated_prefect_home, 'backend = "server"\n', name="backend.toml")
    assert load_settings().backend == "server"


def test_user_config_path_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "elsewhere.toml"
    custom.write_text('[cloud]\napi = "http://custom:9"\n')
    monkeypatch.setenv("PREFECT__USER_CONFIG_PATH", str(custom))
    assert load_settings().api_server == "http://custom:9"


def test_prefect_interpolations_in_config_are_ignored(isolated_prefect_home: Path) -> None:
    write_config(isolated_prefect_home, '[cloud]\napi = "${${backend}.endpoint}"\n')
    assert load_settings().api_server == "https://api.prefect.io"


def test_debug_log_names_the_winning_source(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect_gql")
    monkeypatch.setenv("PREFECT__CLOUD__API_KEY", SECRET_SENTINEL)
    monkeypatch.setenv("PREFECT__CLOUD__TENANT_ID", TENANT_ID)

    client = Client("http://arg:1")

    assert client.api_server == "http://arg:1"
    assert client.tenant_id == TENANT_ID
    assert "api_server http://arg:1 from argument" in caplog.text
    assert "cloud.api_key from environment variable PREFECT__CLOUD__API_KEY" in caplog.text
    assert SECRET_SENTINEL not in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("backend = 'mars'\n", "backend"),
        ("[server]\nport = 'x'\n", "server.port"),
        ("= =", "cannot read"),
    ],
)
def test_bad_config_is_a_clear_error(isolated_prefect_home: Path, text: str, message: str) -> None:
    write_config(isolated_prefect_home, text)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_bad_tenant_id_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="tenant_id must be a UUID"):
        Client("http://x", api_key="k", tenant_id="nope")


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://api.prefect.io/graphql/alpha", "https-api.prefect.io-graphql-alpha"),
        ("http://localhost:4200/graphql", "http-localhost-4200-graphql"),
        ("api.prefect.io", "api.prefect.io"),
    ],
)
def test_server_slug_matches_prefect(url: str, slug: str) -> None:
    assert server_slug(url) == slug


def test_server_ui_endpoint_sets_ui_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__SERVER__UI__ENDPOINT", "http://ui.test:9090/")
    client = Client("http://api.test:4200", backend="server")
    assert client.get_cloud_url("flow-run", "abc") == "http://ui.test:9090/flow-run/abc"


def test_home_dir_default_is_expanded_to_the_user_home(
    isolated_prefect_home: Path,
) -> None:
    assert Settings().home_dir == Path.home() / ".prefect" == isolated_prefect_home
    assert Settings().home_dir.is_absolute()


@pytest.mark.parametrize(
    "configured",
    ["~/custom-prefect", "$PREFECT_GQL_TEST_ROOT/custom-prefect", "${HOME}/custom-prefect"],
)
def test_home_dir_is_expanded_whatever_its_source(
    configured: str,
    tmp_path: Path,
    isolated_prefect_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As Prefect's config does: ``~`` and environment variables, from every source."""
    monkeypatch.setenv("PREFECT_GQL_TEST_ROOT", str(Path.home()))
    expected = Path.home() / "custom-prefect"
    assert Settings(home_dir=configured).home_dir == expected
    assert load_settings(home_dir=configured).home_dir == expected

    config = tmp_path / "config.toml"
    config.write_text(f'home_dir = "{configured}"\n')
    monkeypatch.setenv("PREFECT__USER_CONFIG_PATH", str(config))
    # A config file's ``${...}`` is one of Prefect's interpolations, ignored.
    assert Settings().home_dir == (expected if "${" not in configured else isolated_prefect_home)

    monkeypatch.setenv("PREFECT__HOME_DIR", configured)
    assert Settings().home_dir == expected
    assert backend_file_path() == expected / "backend.toml"
    monkeypatch.delenv("PREFECT__USER_CONFIG_PATH")
    assert user_config_path() == expected / "config.toml"


def test_config_paths_from_the_environment_are_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__USER_CONFIG_PATH", "~/$PREFECT_GQL_TEST_NAME.toml")
    monkeypatch.setenv("PREFECT__BACKEND_CONFIG_PATH", "${HOME}/backend-elsewhere.toml")
    monkeypatch.setenv("PREFECT_GQL_TEST_NAME", "mine")
    assert user_config_path() == Path.home() / "mine.toml"
    assert backend_file_path() == Path.home() / "backend-elsewhere.toml"


def test_saved_api_key_is_read_from_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``save_auth_to_disk`` writes ``$HOME/.prefect/auth.toml``, wherever the process runs."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    Client("https://api.prefect.test", api_key="saved-key", backend="cloud").save_auth_to_disk()

    assert (Path.home() / ".prefect" / "auth.toml").is_file()
    assert list(first.iterdir()) == []
    monkeypatch.chdir(second)
    client = Client("https://api.prefect.test", backend="cloud")
    assert client.credential_kind == "api_key"
    assert client.load_auth_from_disk() == {"api_key": "saved-key"}


@pytest.mark.parametrize(
    "url", ["localhost:4200", "prefect.test", "ftp://prefect.test/graphql", "http://", "://x"]
)
def test_an_api_url_httpx_cannot_send_to_is_refused_when_the_client_is_built(url: str) -> None:
    with pytest.raises(ConfigurationError, match="api_server") as raised:
        Client(url, backend="server")
    assert "PREFECT__CLOUD__API" in str(raised.value)


def test_a_bad_api_url_from_the_environment_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT__SERVER__ENDPOINT", "localhost:4200")
    with pytest.raises(ConfigurationError, match="localhost:4200"):
        Client(backend="server")


def test_an_api_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Client(f"localhost://user:{SECRET_SENTINEL}@prefect.test", backend="server")
    assert SECRET_SENTINEL not in str(raised.value)
