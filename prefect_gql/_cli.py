"""``prefect-gql``: the local server and the schema workflow, from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from ._codegen import CodegenError, check_fresh, find_project_root, generate, sources
from ._schema_tools import SchemaToolError, diff_schemas, load_schema, pull_schema, validate_queries

__all__ = ["app", "main"]


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


def _parse_headers(values: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, separator, content = value.partition(":")
        if not separator or not name.strip():
            raise _fail(
                "--header takes NAME:VALUE; one value has no colon (not shown: it may be secret)"
            )
        headers[name.strip()] = content.strip()
    return headers


def _config_path(config: Path | None) -> Path:
    try:
        return (config or find_project_root() / "codegen.toml").resolve()
    except CodegenError as err:
        raise _fail(str(err)) from err


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
        raise _fail(
            f"the server needs the 'server' extra (pip install 'prefect-gql[server]'): {err}"
        ) from err
    serve(host=host, port=port, db=db)


@app.group()
def schema() -> None:
    """Pull and compare API schemas."""


@schema.command("pull")
@click.option("--url", required=True, help="GraphQL endpoint to introspect.")
@click.option("--header", multiple=True, help="Extra request header NAME:VALUE (repeatable).")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("schema/prefect.graphql"),
    show_default=True,
    help="Where to write the SDL.",
)
def schema_pull(url: str, header: tuple[str, ...], output: Path) -> None:
    """Introspect a live API and write its schema as sorted SDL."""
    try:
        sdl = pull_schema(url, _parse_headers(header))
    except SchemaToolError as err:
        raise _fail(str(err)) from err
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl)
    click.echo(f"wrote {output} ({len(sdl.splitlines())} lines)")


@schema.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--queries",
    type=click.Path(path_type=Path),
    default=Path("queries"),
    show_default=True,
    help="Folder of .graphql operations.",
)
def schema_diff(old: Path, new: Path, queries: Path) -> None:
    """Breaking and dangerous changes from OLD to NEW, and the queries NEW breaks.

    Exits 1 when a query no longer validates against NEW.
    """
    try:
        result = diff_schemas(load_schema(old), load_schema(new), queries)
    except SchemaToolError as err:
        raise _fail(str(err)) from err
    for title, changes in (("Breaking", result.breaking), ("Dangerous", result.dangerous)):
        click.echo(f"{title} changes: {len(changes)}")
        for change in changes:
            click.echo(f"  - {change}")
    click.echo(f"Queries that no longer validate: {len(result.broken_queries)}")
    for problem in result.broken_queries:
        click.echo(f"  {problem}")
    if result.breaks_queries:
        raise click.exceptions.Exit(1)


@app.command("generate")
@click.option("--config", type=click.Path(path_type=Path), help="ariadne-codegen config.")
def generate_command(config: Path | None) -> None:
    """Regenerate generated/ from schema/ and queries/ with ariadne-codegen."""
    try:
        package = generate(_config_path(config))
    except CodegenError as err:
        raise _fail(str(err)) from err
    click.echo(f"generated {package}")


@app.command()
@click.option("--config", type=click.Path(path_type=Path), help="ariadne-codegen config.")
def check(config: Path | None) -> None:
    """Queries validate against schema/, and generated/ equals a fresh regeneration."""
    config_path = _config_path(config)
    try:
        schema_path, queries_dir = sources(config_path)
        problems = validate_queries(load_schema(schema_path), queries_dir)
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            raise click.exceptions.Exit(1)
        report = check_fresh(config_path)
    except (CodegenError, SchemaToolError) as err:
        raise _fail(str(err)) from err
    if not report.fresh:
        click.echo(report.describe(), err=True)
        click.echo("generated/ is stale: run `prefect-gql generate` and commit it", err=True)
        raise click.exceptions.Exit(1)
    click.echo("queries valid; generated/ is fresh")


def main() -> None:
    app()
