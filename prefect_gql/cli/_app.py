"""The ``prefect-gql`` group (``--version``, ``--api``) and its commands for the local server
and the schema workflow: server, schema pull/diff/path, init, generate, check.

Only the command-line layer lives here; the work is done by ``_schema_tools`` and
``_codegen``. ``_catalog`` and ``_runs`` add their commands to ``app``; ``_commands``
imports all three. Expected failures print one ``Error:`` line and exit 1, never a
traceback. click rather than typer: a faster start, without rich.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from prefect_gql import __version__, schema_path

from .._bundled import library_queries_path
from .._codegen import (
    CodegenError,
    check_fresh,
    find_config,
    generate,
    init_project,
    package_dir,
    sources,
)
from .._schema_tools import (
    SchemaToolError,
    diff_schemas,
    load_schema,
    parse_headers,
    pull_schema,
    validate_queries,
    write_schema,
)
from ._output import API_HELP, is_uuid

__all__ = ["app"]

_SERVER_EXTRA = ("ariadne", "uvicorn", "starlette", "croniter", "dateutil")
_CONFIG_HELP = (
    "ariadne-codegen config (default: the nearest codegen.toml, or pyproject.toml with"
    " [tool.ariadne-codegen], from the cwd up)."
)


def _config_path(config: Path | None) -> Path:
    try:
        return (config or find_config()).resolve()
    except CodegenError as err:
        raise click.ClickException(str(err)) from err


def _print_version(context: click.Context, _parameter: click.Parameter, value: bool) -> None:
    if value:
        click.echo(f"prefect-gql {__version__}")
        context.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
@click.option("--api", default=None, help=f"{API_HELP} Also accepted after the command.")
def app(api: str | None) -> None:
    """prefect_gql tools: runs, flows and projects from the terminal (as Prefect 1.x's CLI),
    the embedded local API server, your own typed operations and the schema.

    Shell completion is click's; for bash, add this line to ~/.bashrc (zsh_source
    in ~/.zshrc, fish_source for fish):

    \b
        eval "$(_PREFECT_GQL_COMPLETE=bash_source prefect-gql)"
    """


def _api_keys(values: tuple[str, ...]) -> dict[str, str | None]:
    """``--api-key KEY[=TENANT]`` values: each key and its tenant id (None: the default).

    The text after the last ``=`` is the tenant only when it is a UUID, so a key that
    itself ends in ``=`` padding is taken whole.
    """
    keys: dict[str, str | None] = {}
    for value in values:
        key, equals, tenant = value.rpartition("=")
        if not equals or not is_uuid(tenant):
            key, tenant = value, ""
        if not key.strip():
            raise click.BadParameter("an API key cannot be empty", param_hint="--api-key")
        keys[key] = tenant or None
    return keys


def start_line(url: str, db: str, api_keys: int) -> str:
    """What ``prefect-gql server`` prints first: the mode, the database and the URL."""
    mode = (
        f"token mode ({api_keys} API key{'s' if api_keys != 1 else ''})"
        if api_keys
        else "open mode (no credentials asked)"
    )
    database = (
        "in memory (gone when the server stops)"
        if db == ":memory:"
        else f"SQLite {Path(db).resolve()}"
    )
    return f"prefect-gql server: {mode}, database {database}, API {url}"


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=4200, show_default=True, help="Port to listen on.")
@click.option("--db", default=":memory:", show_default=True, help="SQLite file, or :memory:.")
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY[=TENANT]",
    help="Token mode: accept this Prefect 1.x API key, acting for tenant id TENANT (default:"
    " the default tenant). Repeatable. Without it the server asks for no credentials.",
)
def server(host: str, port: int, db: str, api_keys: tuple[str, ...]) -> None:
    """Run the embedded local Prefect API server (a stand-in for development and tests)."""
    keys = _api_keys(api_keys)
    try:
        from prefect_gql.server import (  # noqa: PLC0415 - optional extra, imported on use
            DEFAULT_TENANT_ID,
            AuthConfig,
            serve,
        )
    except ImportError as err:
        missing = (err.name or "").partition(".")[0]
        if err.name == "prefect_gql.server":
            raise click.ClickException(
                "the local server is not part of this installation of prefect-gql"
            ) from err
        if missing in _SERVER_EXTRA:
            raise click.ClickException(
                f"the server needs the 'server' extra ({missing} is missing):"
                " pip install 'prefect-gql[server]'"
            ) from err
        raise
    auth = (
        AuthConfig(api_keys={key: tenant or DEFAULT_TENANT_ID for key, tenant in keys.items()})
        if keys
        else None
    )
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(start_line(f"http://{shown_host}:{port}", db, len(keys)))
    serve(host=host, port=port, db=db, auth=auth)


@app.group()
def schema() -> None:
    """Pull a live API schema and compare schemas."""


@schema.command("pull")
@click.option("--url", required=True, help="GraphQL endpoint to introspect.")
@click.option(
    "--header",
    multiple=True,
    metavar="NAME:VALUE",
    help="Extra request header, e.g. 'Authorization: Bearer ...' (repeatable; never printed).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schema/prefect.graphql"),
    show_default=True,
    help="Where to write the SDL.",
)
def schema_pull(url: str, header: tuple[str, ...], output: Path) -> None:
    """Introspect a live API and write its schema as sorted SDL (small, stable diffs)."""
    try:
        sdl = pull_schema(url, parse_headers(header))
        write_schema(sdl, output)
    except SchemaToolError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {output} ({len(sdl.splitlines())} lines)")


@schema.command("path")
def schema_path_command() -> None:
    """Print the path of the API schema that ships inside prefect-gql."""
    try:
        click.echo(str(schema_path()))
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from err


def _queries_to_check(queries: tuple[Path, ...], library: bool) -> list[Path]:
    """The library's operations (if asked), then the given folders, else ./queries if any."""
    folders = list(queries) or ([Path("queries")] if Path("queries").is_dir() else [])
    if library:
        try:
            folders.insert(0, library_queries_path())
        except FileNotFoundError as err:
            raise click.ClickException(str(err)) from err
    return folders


@schema.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--queries",
    type=click.Path(file_okay=False, path_type=Path),
    multiple=True,
    help="Folder of .graphql operations to check against NEW (repeatable;"
    " default: ./queries when it exists).",
)
@click.option(
    "--library/--no-library",
    default=True,
    show_default=True,
    help="Also check the operations prefect-gql itself sends.",
)
def schema_diff(old: Path, new: Path, queries: tuple[Path, ...], library: bool) -> None:
    """Breaking, dangerous and added changes from OLD to NEW, and the queries NEW breaks.

    Checks prefect-gql's own operations and yours, naming each broken one
    file:line:column. Exits 1 when a query that validates against OLD does not
    against NEW. OLD is often `prefect-gql schema path`.
    """
    folders = _queries_to_check(queries, library)
    try:
        result = diff_schemas(load_schema(old), load_schema(new), folders)
    except SchemaToolError as err:
        raise click.ClickException(str(err)) from err
    for title, changes in (
        ("Breaking", result.breaking),
        ("Dangerous", result.dangerous),
        ("Added (safe)", result.added),
    ):
        click.echo(f"{title} changes: {len(changes)}")
        for change in changes:
            click.echo(f"  - {change}")
    click.echo(f"Query folders checked: {', '.join(map(str, folders)) or 'none'}")
    click.echo(f"Queries broken by NEW: {len(result.broken_queries)}")
    for problem in result.broken_queries:
        click.echo(f"  {problem}")
    if result.already_invalid:
        click.echo(f"Queries already invalid against OLD: {len(result.already_invalid)}")
        for problem in result.already_invalid:
            click.echo(f"  {problem}")
    if result.breaks_queries:
        raise click.exceptions.Exit(1)


GRAPHQL_CONFIG = ".graphqlrc.yml"
"""graphql-config's file, read by the GraphQL editor plugins (VS Code's GraphQL extension,
JetBrains' GraphQL plugin) and graphql-language-service: completion and validation of
queries/ against the API schema as they are typed."""


def write_graphql_config(directory: Path) -> Path | None:
    """Write ``directory/.graphqlrc.yml`` naming the bundled schema and ``queries/``;
    None when one is there already (it is the user's: kept)."""
    path = directory / GRAPHQL_CONFIG
    if path.exists():
        return None
    try:
        schema = schema_path()
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from err
    path.write_text(
        "# graphql-config for editors (written by `prefect-gql init`): the Prefect API schema\n"
        "# that ships in prefect-gql (`prefect-gql schema path` prints it; rerun that after\n"
        "# reinstalling prefect-gql elsewhere) and your operations in queries/.\n"
        f"schema: {json.dumps(str(schema))}\n"
        'documents: "queries/**/*.graphql"\n',
        encoding="utf-8",
    )
    return path


@app.command("init")
@click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), required=False
)
@click.option(
    "--package",
    required=True,
    help="Python package to generate your typed operations into, e.g. my_queries.",
)
def init_command(directory: Path, package: str) -> None:
    """Set up DIRECTORY (default: here) to compile your own .graphql operations.

    Writes the codegen config (into pyproject.toml when there is one, else
    codegen.toml), an example operation in queries/ and .graphqlrc.yml, with which
    editors complete and check queries as you type. Then run `prefect-gql generate`
    (or `prefect-gql generate --watch`) there and use `PACKAGE.Operations(client)`.
    """
    try:
        written = init_project(directory, package)
    except CodegenError as err:
        raise click.ClickException(str(err)) from err
    editor_config = write_graphql_config(directory.resolve())
    for path in [*written, *([editor_config] if editor_config else [])]:
        click.echo(f"wrote {path}")
    if editor_config is None:
        click.echo(f"kept {directory.resolve() / GRAPHQL_CONFIG}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(
        f"next: {where}prefect-gql generate, then"
        f" `from {package} import Operations` and `Operations(client).<operation>(...)`"
    )


@app.command("generate")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=_CONFIG_HELP)
@click.option(
    "--watch",
    is_flag=True,
    help="Then regenerate whenever a query or the config changes (until Ctrl-C).",
)
@click.option(
    "--max-changes",
    type=click.IntRange(min=1),
    default=None,
    hidden=True,
    help="With --watch: stop after this many batches of changes (for tests and scripts).",
)
def generate_command(config: Path | None, watch: bool, max_changes: int | None) -> None:
    """Regenerate the configured package from its schema and queries with ariadne-codegen."""
    config_path = _config_path(config)
    _generate_once(config_path, keep_going=False)
    if watch:
        watch_and_generate(config_path, max_changes)


def _generate_once(config_path: Path, *, keep_going: bool) -> None:
    """One regeneration; its failure is one ``Error:`` line (and, watching, not the end)."""
    try:
        package = generate(config_path)
    except CodegenError as err:
        if not keep_going:
            raise click.ClickException(str(err)) from err
        click.echo(f"Error: {err}", err=True)
        return
    click.echo(f"generated {package}")


def watch_and_generate(config_path: Path, max_changes: int | None) -> None:
    """Regenerate after each batch of changes to ``config_path`` or a ``.graphql`` file of
    its queries folder, until interrupted or ``max_changes`` batches. Prints ``watching``
    once the file watcher runs, so a change made after that line is seen."""
    try:
        import watchfiles  # noqa: PLC0415 - the codegen extra, only for --watch
    except ImportError:
        raise click.ClickException(
            "generate --watch needs the codegen extra (watchfiles is missing):"
            " pip install 'prefect-gql[codegen]'"
        ) from None

    def relevant(_change: object, path: str) -> bool:
        return path.endswith(".graphql") or Path(path) == config_path

    batches = 0
    try:
        while max_changes is None or batches < max_changes:
            batches += _watch_until_the_config_changes(
                watchfiles.watch, config_path, relevant, max_changes=(max_changes or 0) - batches
            )
    except KeyboardInterrupt:
        return


def _watch_until_the_config_changes(
    watch: Callable[..., Iterator[set[tuple[Any, str]]]],
    config_path: Path,
    relevant: Callable[[object, str], bool],
    *,
    max_changes: int,
) -> int:
    """Regenerate on each batch of changes; return the number of batches seen when the
    config changed (it may name another queries folder, and an editor may have replaced
    the file: the caller watches anew) or ``max_changes`` (> 0) were seen."""
    try:
        _, queries_dir = sources(config_path)
    except CodegenError as err:
        raise click.ClickException(str(err)) from err
    batches = 0
    announced = False
    for changes in watch(
        queries_dir, config_path, watch_filter=relevant, yield_on_timeout=True, rust_timeout=200
    ):
        if not changes:
            if not announced:
                announced = True
                click.echo(f"watching {queries_dir} and {config_path} (Ctrl-C to stop)")
            continue
        names = sorted({Path(path).name for _, path in changes})
        click.echo(f"changed: {', '.join(names)}")
        _generate_once(config_path, keep_going=True)
        batches += 1
        if batches == max_changes or any(Path(path) == config_path for _, path in changes):
            return batches
    return batches


@app.command()
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=_CONFIG_HELP)
def check(config: Path | None) -> None:
    """Every query validates against the schema, and the package equals a fresh regeneration.

    Exits 1 on any failure (CI and the pre-commit hook run this).
    """
    config_path = _config_path(config)
    try:
        package = package_dir(config_path)
        schema_file, queries_dir = sources(config_path)
        problems = validate_queries(load_schema(schema_file), queries_dir)
        if problems:
            for problem in problems:
                click.echo(str(problem), err=True)
            click.echo(
                f"{len(problems)} query problem(s) against {schema_file}; fix them, then"
                " run `prefect-gql generate`",
                err=True,
            )
            raise click.exceptions.Exit(1)
        report = check_fresh(config_path)
    except (CodegenError, SchemaToolError) as err:
        raise click.ClickException(str(err)) from err
    if not report.fresh:
        click.echo(report.describe(), err=True)
        click.echo(f"{package.name} is stale: run `prefect-gql generate` and commit it", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"queries valid; {package.name} is fresh")
