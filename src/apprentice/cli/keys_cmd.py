"""``apprentice keys …``: the master key, enrolment tokens, device revocation (privacy officer).

The collector calls need a privacy officer's API token in ``APPRENTICE_ADMIN_TOKEN`` (created
with ``apprentice server accounts create --role privacy_officer``); they are sent with the
purpose ``governance``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="Master key and enrolment administration.", no_args_is_help=True)


@app.command("init")
def init(
    folder: Path = typer.Option(..., "--dir", help="Where to create master.key (0600) and master.pub."),
) -> None:
    """Create the master key pair. Give master.pub to the collector, master.key to the pipeline only."""
    from apprentice.server.keys._local import create_master_key

    pub = create_master_key(folder)
    typer.echo(f"created {folder / 'master.key'} (keep it away from the collector) and {pub}")
    typer.echo(f'collector setting: master_key_url = "local://{pub.resolve()}"')


def _admin_client(server: str):  # type: ignore[no-untyped-def]
    import httpx

    token = os.environ.get("APPRENTICE_ADMIN_TOKEN")
    if not token:
        raise typer.BadParameter(
            "set APPRENTICE_ADMIN_TOKEN to a privacy officer's API token "
            "(apprentice server accounts create --role privacy_officer)"
        )
    headers = {"Authorization": f"Bearer {token}", "X-Apprentice-Purpose": "governance"}
    return httpx.Client(base_url=server, headers=headers, timeout=30)


def _check(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from apprentice.errors import UploadRejected

    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.reason_phrase
        raise UploadRejected(response.status_code, message)
    return response.json() if response.content else {}


@app.command("issue-token")
def issue_token(
    server: str = typer.Option(..., "--server", help="Collector URL."),
    contributor: str = typer.Option(..., "--contributor", help="Pseudonymous contributor id."),
    ttl: int = typer.Option(86400, "--ttl", help="Seconds the token stays valid."),
) -> None:
    """Issue a one-time enrolment token (needs APPRENTICE_ADMIN_TOKEN). Printed once."""
    with _admin_client(server) as client:
        doc = _check(client.post("/api/v1/admin/enrolment-tokens",
                                 json={"contributor_id": contributor, "ttl_s": ttl}))
    typer.echo(doc["token"])
    typer.echo(f"valid until {doc['expires_at']}", err=True)


@app.command("revoke-device")
def revoke_device(
    device_id: str = typer.Argument(..., help="Device id (dev-…)."),
    server: str = typer.Option(..., "--server", help="Collector URL."),
) -> None:
    """Revoke a device: its requests are refused from now on."""
    with _admin_client(server) as client:
        _check(client.post(f"/api/v1/admin/devices/{device_id}/revoke"))
    typer.echo(f"revoked {device_id}")


@app.command("forget")
def forget(
    contributor: str = typer.Argument(..., help="Contributor id to forget."),
    server: str = typer.Option(..., "--server", help="Collector URL."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Forget a contributor on their behalf: destroy their key, delete their chunks."""
    if not yes:
        typer.confirm(f"Destroy every upload of {contributor}? This cannot be undone", abort=True)
    with _admin_client(server) as client:
        doc = _check(client.post(f"/api/v1/admin/contributors/{contributor}/forget"))
    typer.echo(f"forgotten: {doc['chunks_deleted']} chunks deleted, key destroyed")
