"""``prefect-gql``: the local server and the schema workflow, from the command line.

Only the command-line layer lives here; the work is done by ``_schema_tools`` and
``_codegen``. Expected failures print one ``Error:`` line and exit 1, never a
traceback. click rather than typer: a faster start, without rich.
"""

from __future__ import annotations

from pathlib import Path

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

__all__ = ["app", "main"]

_SERVER_EXTRA = ("ariadne", "uvicorn", "starlette")
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

    Shell completion is click's: e.g. for bash, add
    eval "$(_PREFECT_GQL_COMPLETE=bash_source prefect-gql)" to ~/.bashrc
    (zsh_source, fish_source for zsh and fish).
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
    codegen.toml) and an example operation in queries/. Then run `prefect-gql
    generate` there and use `PACKAGE.Operations(client)`.
    """
    try:
        written = init_project(directory, package)
    except CodegenError as err:
        raise click.ClickException(str(err)) from err
    for path in written:
        click.echo(f"wrote {path}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(
        f"next: {where}prefect-gql generate, then"
        f" `from {package} import Operations` and `Operations(client).<operation>(...)`"
    )


@app.command("generate")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=_CONFIG_HELP)
def generate_command(config: Path | None) -> None:
    """Regenerate the configured package from its schema and queries with ariadne-codegen."""
    try:
        package = generate(_config_path(config))
    except CodegenError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"generated {package}")


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


from . import (  # noqa: E402 - register their commands on app
    _catalog,  # noqa: F401 - projects, flows, flow, agents
    _runs,  # noqa: F401 - flow-runs, flow-run, task-runs, logs, run, query, auth
)


def main() -> None:
    """Console entry point (``[project.scripts] prefect-gql``)."""
    app(prog_name="prefect-gql")
