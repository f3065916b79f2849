"""`listening api`: serve the read HTTP API; `listening api tokens ...`: manage its tokens."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from listening.cli.core import JsonOpt, open_store
from listening.cli.output import console, print_json
from listening.settings import get_settings

api_app = typer.Typer(
    help="Serve the read HTTP API (docs/API.md), or manage its tokens.",
    invoke_without_command=True,
)
tokens_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


@api_app.callback()
def api(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address (default: api.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: api.port).")] = None,
) -> None:
    """Serve the read HTTP API (docs/API.md), or manage its tokens."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from listening.api.app import create_app

    settings = get_settings()
    open_store(read_only=True)  # fail early, with a clear error, when the store is not ready
    host, port = host or settings.api.host, port or settings.api.port
    console.print(f"API on http://{host}:{port} (docs at /docs)")
    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="info")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Unique name saying who uses the token.")],
    role: Annotated[str, typer.Option(help="community, support, marketing or admin.")],
    expires_days: Annotated[
        int | None, typer.Option(help="Days until the token expires (default: never).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from listening.api.tokens import create_token

    with open_store().session() as session:
        info, token = create_token(session, name, role, expires_days)
    if json_out:
        print_json({**dataclasses.asdict(info), "token": token})
        return
    console.print(f"Token {info.name!r} ({info.role}) created; copy it now, it is not shown again:")
    console.print(token, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(json_out: JsonOpt = False) -> None:
    """List tokens: name, prefix, role, state, created, last used, expiry (never the token)."""
    from listening.api.tokens import list_tokens

    with open_store(read_only=True).session() as session:
        infos = list_tokens(session)
    now = datetime.now(UTC)
    rows = [{**dataclasses.asdict(i), "state": i.state(now)} for i in infos]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No API token yet: `listening api tokens create NAME --role ROLE`.")
        return
    table = Table("name", "prefix", "role", "state", "created", "last used", "expires")
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["prefix"]),
            str(r["role"]),
            str(r["state"]),
            *(
                f"{r[k]:%Y-%m-%d %H:%M}" if r[k] else ""
                for k in ("created_at", "last_used_at", "expires_at")
            ),
        )
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="Name (or prefix) of the token.")],
    json_out: JsonOpt = False,
) -> None:
    """Revoke a token: its next request is refused (401)."""
    from listening.api.tokens import revoke_token

    with open_store().session() as session:
        info = revoke_token(session, name)
    if json_out:
        print_json(dataclasses.asdict(info))
    else:
        console.print(f"Revoked token {info.name!r} ({info.prefix}…).")


api_app.add_typer(tokens_app, name="tokens")


def register(app: typer.Typer) -> None:
    app.add_typer(api_app, name="api")
