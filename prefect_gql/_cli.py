"""``prefect-gql``: the local server and the schema workflow, from the command line.

Only the command-line layer lives here; the work is done by ``_schema_tools`` and
``_codegen``. Expected failures print one ``Error:`` line and exit 1, never a
traceback. click rather than typer: a faster start, without rich.
"""

from __future__ import annotations

from pathlib import Path

import click

from ._codegen import CodegenError, check_fresh, find_project_root, generate, sources
from ._schema_tools import (
    SchemaToolError,
    diff_schemas,
    load_schema,
    parse_headers,
    pull_schema,
    validate_queries,
    write_schema,
)

__all__ = ["app", "main"]

_SERVER_EXTRA = ("ariadne", "uvicorn", "starlette")
_CONFIG_HELP = "ariadne-codegen config (default: codegen.toml of the project around the cwd)."


def _config_path(config: Path | None) -> Path:
    try:
        return (config or find_project_root() / "codegen.toml").resolve()
    except CodegenError as err:
        raise click.ClickException(str(err)) from err


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def app() -> None:
    """prefect_gql tools: the embedded local API server and the schema workflow."""


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=4200, show_default=True, help="Port to listen on.")
@click.option("--db", default=":memory:", show_default=True, help="SQLite file, or :memory:.")
def server(host: str, port: int, db: str) -> None:
    """Run the embedded local Prefect API server (a stand-in for development and tests)."""
    try:
        from .server import serve  # noqa: PLC0415 - optional extra, imported on use
    except ImportError as err:
        missing = (err.name or "").partition(".")[0]
        if err.name == f"{__package__}.server":
            raise click.ClickException(
                "the local server is not part of this installation of prefect-gql"
            ) from err
        if missing in _SERVER_EXTRA:
            raise click.ClickException(
                f"the server needs the 'server' extra ({missing} is missing):"
                " pip install 'prefect-gql[server]'"
            ) from err
        raise
    serve(host=host, port=port, db=db)


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


@schema.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--queries",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("queries"),
    show_default=True,
    help="Folder of .graphql operations to check against NEW.",
)
def schema_diff(old: Path, new: Path, queries: Path) -> None:
    """Breaking and dangerous changes from OLD to NEW, and the queries NEW breaks.

    Exits 1 when a query that validates against OLD does not against NEW.
    """
    try:
        result = diff_schemas(load_schema(old), load_schema(new), queries)
    except SchemaToolError as err:
        raise click.ClickException(str(err)) from err
    for title, changes in (("Breaking", result.breaking), ("Dangerous", result.dangerous)):
        click.echo(f"{title} changes: {len(changes)}")
        for change in changes:
            click.echo(f"  - {change}")
    click.echo(f"Queries broken by NEW: {len(result.broken_queries)}")
    for problem in result.broken_queries:
        click.echo(f"  {problem}")
    if result.already_invalid:
        click.echo(f"Queries already invalid against OLD: {len(result.already_invalid)}")
        for problem in result.already_invalid:
            click.echo(f"  {problem}")
    if result.breaks_queries:
        raise click.exceptions.Exit(1)


@app.command("generate")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=_CONFIG_HELP)
def generate_command(config: Path | None) -> None:
    """Regenerate the generated package from schema/ and queries/ with ariadne-codegen."""
    try:
        package = generate(_config_path(config))
    except CodegenError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"generated {package}")


@app.command()
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=_CONFIG_HELP)
def check(config: Path | None) -> None:
    """Every query validates against schema/, and generated/ equals a fresh regeneration.

    Exits 1 on any failure (CI and the pre-commit hook run this).
    """
    config_path = _config_path(config)
    try:
        schema_path, queries_dir = sources(config_path)
        problems = validate_queries(load_schema(schema_path), queries_dir)
        if problems:
            for problem in problems:
                click.echo(str(problem), err=True)
            click.echo(
                f"{len(problems)} query problem(s) against {schema_path}; fix them, then"
                " run `prefect-gql generate`",
                err=True,
            )
            raise click.exceptions.Exit(1)
        report = check_fresh(config_path)
    except (CodegenError, SchemaToolError) as err:
        raise click.ClickException(str(err)) from err
    if not report.fresh:
        click.echo(report.describe(), err=True)
        click.echo("generated/ is stale: run `prefect-gql generate` and commit it", err=True)
        raise click.exceptions.Exit(1)
    click.echo("queries valid; generated/ is fresh")


def main() -> None:
    """Console entry point (``[project.scripts] prefect-gql``)."""
    app(prog_name="prefect-gql")
