"""``prefect-gql``: the local server and the schema workflow, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._codegen import CodegenError, check_fresh, find_project_root, generate, sources
from ._schema_tools import SchemaToolError, diff_schemas, load_schema, pull_schema, validate_queries

__all__ = ["app", "main"]

app = typer.Typer(
    help="prefect_gql tools: the embedded local API server and the schema workflow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="Pull and compare API schemas.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, separator, content = value.partition(":")
        if not separator or not name.strip():
            raise _fail(
                "--header takes NAME:VALUE; one value has no colon (not shown: it may be secret)"
            )
        headers[name.strip()] = content.strip()
    return headers


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4200,
    db: Annotated[str, typer.Option(help="SQLite file, or :memory:.")] = ":memory:",
) -> None:
    """Run the embedded local Prefect API server (a stand-in for development and tests)."""
    try:
        from .server import serve  # noqa: PLC0415 - optional extra, imported on use
    except ImportError as err:
        raise _fail(
            f"the server needs the 'server' extra (pip install 'prefect-gql[server]'): {err}"
        ) from err
    serve(host=host, port=port, db=db)


@schema_app.command("pull")
def schema_pull(
    url: Annotated[str, typer.Option(help="GraphQL endpoint to introspect.")],
    header: Annotated[
        list[str] | None, typer.Option(help="Extra request header NAME:VALUE (repeatable).")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the SDL.")] = Path(
        "schema/prefect.graphql"
    ),
) -> None:
    """Introspect a live API and write its schema as sorted SDL."""
    try:
        sdl = pull_schema(url, _parse_headers(header or []))
    except SchemaToolError as err:
        raise _fail(str(err)) from err
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl)
    typer.echo(f"wrote {output} ({len(sdl.splitlines())} lines)")


@schema_app.command("diff")
def schema_diff(
    old: Annotated[Path, typer.Argument(help="The schema the queries were written for.")],
    new: Annotated[Path, typer.Argument(help="The changed schema.")],
    queries: Annotated[Path, typer.Option(help="Folder of .graphql operations.")] = Path("queries"),
) -> None:
    """Breaking and dangerous changes, and the queries NEW breaks (exit 1 if any)."""
    try:
        result = diff_schemas(load_schema(old), load_schema(new), queries)
    except SchemaToolError as err:
        raise _fail(str(err)) from err
    for title, changes in (("Breaking", result.breaking), ("Dangerous", result.dangerous)):
        typer.echo(f"{title} changes: {len(changes)}")
        for change in changes:
            typer.echo(f"  - {change}")
    typer.echo(f"Queries that no longer validate: {len(result.broken_queries)}")
    for problem in result.broken_queries:
        typer.echo(f"  {problem}")
    if result.breaks_queries:
        raise typer.Exit(code=1)


@app.command("generate")
def generate_command(
    config: Annotated[Path | None, typer.Option(help="ariadne-codegen config.")] = None,
) -> None:
    """Regenerate generated/ from schema/ and queries/ with ariadne-codegen."""
    try:
        config_path = config or find_project_root() / "codegen.toml"
        package = generate(config_path)
    except CodegenError as err:
        raise _fail(str(err)) from err
    typer.echo(f"generated {package}")


@app.command()
def check(
    config: Annotated[Path | None, typer.Option(help="ariadne-codegen config.")] = None,
) -> None:
    """Queries validate against schema/, and generated/ equals a fresh regeneration."""
    try:
        config_path = (config or find_project_root() / "codegen.toml").resolve()
        schema_path, queries_dir = sources(config_path)
        problems = validate_queries(load_schema(schema_path), queries_dir)
        for problem in problems:
            typer.echo(str(problem), err=True)
        if problems:
            raise typer.Exit(code=1)
        report = check_fresh(config_path)
    except (CodegenError, SchemaToolError) as err:
        raise _fail(str(err)) from err
    if not report.fresh:
        typer.echo(report.describe(), err=True)
        typer.echo("generated/ is stale: run `prefect-gql generate` and commit it", err=True)
    if not report.fresh:
        raise typer.Exit(code=1)
    typer.echo("queries valid; generated/ is fresh")


def main() -> None:
    app()
