"""``tps-hub witness`` (run a witness), ``tps-hub witness-refusals`` (the evidence it kept)
and ``tps-hub cosign`` (the hub asking its witnesses): the command lines of hub/witness.py
and hub/translog/cosigning.py."""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from protocol import certs, checkpoint, keys
from protocol.errors import ProtocolError

F = TypeVar("F", bound=Callable[..., Any])

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _state_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("witness.sqlite3"),
        show_default=True,
        help=help_text,
    )


@click.command("witness")
@click.option("--name", required=True, help="The witness's key name, e.g. saksi.partai-x.id/w1.")
@click.option("--key", "key_path", required=True, type=_FILE, help="Its Ed25519 key (PEM).")
@click.option("--ca", "ca_path", required=True, type=_FILE, help="The region CA certificate.")
@click.option(
    "--hub-cert",
    "hub_cert_path",
    required=True,
    type=_FILE,
    help="The hub's certificate: its key signs the checkpoints (checked against --ca).",
)
@click.option("--log", "log_ids", multiple=True, required=True, help="A log to follow (repeat).")
@_state_option(
    "Where the latest cosigned checkpoint of each log is kept (keep it: it is the witness)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@click.option("--print-vkey", is_flag=True, help="Print the witness's verifier key and exit.")
def witness_command(
    name: str,
    key_path: Path,
    ca_path: Path,
    hub_cert_path: Path,
    log_ids: tuple[str, ...],
    state_path: Path,
    host: str,
    port: int,
    print_vkey: bool,
) -> None:
    """Run a witness of the hub's logs (C2SP tlog-witness): it cosigns a checkpoint only if
    the hub signed it and it extends the last one this witness cosigned; it refuses any
    other (a rewritten log, or a log shown two ways). Readers name it by the verifier key
    --print-vkey shows."""
    from hub.api.serve import serve
    from hub.witness import Witness, create_app

    try:
        key = keys.load_private_key(key_path)
        at = dt.datetime.now(dt.UTC)
        ca = certs.load_certificate(ca_path.read_bytes())
        hub_cert = certs.load_certificate(hub_cert_path.read_bytes())
        logs = {log: [checkpoint.hub_verifier(log, hub_cert, ca, at)] for log in log_ids}
        witness = Witness(name, key, logs, state_path)
    except (ProtocolError, OSError, ValueError) as e:
        raise click.ClickException(f"the witness cannot start: {e}") from e
    click.echo(witness.verifier.vkey())
    if print_vkey:
        witness.close()
        return
    click.echo(f"witness {name} at http://{host}:{port}/add-checkpoint (Ctrl-C to stop)")
    try:
        serve(create_app(witness), host, port)
    finally:
        witness.close()


@click.command("witness-refusals")
@_state_option("The witness's state file (its --state).")
def witness_refusals_command(state_path: Path) -> None:
    """Print every checkpoint this witness refused, in full: each is signed by the hub and
    does not extend the log the witness had cosigned, i.e. evidence that the hub rewrote its
    log or showed it two ways. Exits 1 when there is any."""
    from hub.witness import read_refusals

    try:
        found = read_refusals(state_path)
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from e
    if not found:
        click.echo(f"{state_path}: no checkpoint refused; the hub showed this witness one log")
        return
    click.echo(
        f"{state_path}: {len(found)} checkpoint(s) refused. Each request below is the hub's "
        "own signed checkpoint with the proof it sent: keep them and report them."
    )
    for n, refusal in enumerate(found, 1):
        at = refusal.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"\n#{n} {at} {refusal.origin}: {refusal.reason}")
        text = refusal.request.decode("utf-8", errors="backslashreplace")
        click.echo("".join(f"    {line}\n" for line in text.splitlines()), nl=False)
    raise SystemExit(1)


def post(url: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            data: bytes = answer.read()
            return answer.status, data
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@click.command("cosign")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TPS_HUB_CONFIG",
    default=Path("/etc/tps-hub/hub.toml"),
    show_default=True,
)
@click.option("--once", is_flag=True, help="One round, then exit.")
def cosign_command(config_path: Path, once: bool) -> None:
    """Ask the witnesses hub.toml lists ([[witnesses.witness]]) to cosign each log's latest
    checkpoint, every [witnesses] every_s seconds, and keep their cosignatures on it. The
    API publishes the same list (/api/v1/trust/witnesses): the one list asked is the one
    shown."""
    from hub.cli import _load_config, _open_store
    from hub.translog import TransparencyLog
    from hub.translog.cosigning import Cosigner

    config = _load_config(config_path)
    policy = config.witnesses.policy()
    if not policy.witnesses:
        raise click.ClickException(f"{config_path} lists no witness ([[witnesses.witness]])")
    store = _open_store(config)
    cosigners = {
        name: Cosigner(TransparencyLog(store.log_storage(name)), policy.witnesses, post)
        for name in (config.hub.log_id, config.training_log_id)
    }
    try:
        while True:
            for name, cosigner in cosigners.items():
                done = cosigner.round()
                if done is None:
                    continue
                cosigned = ", ".join(done.cosigned_by) or "none"
                click.echo(f"{name} size {done.tree_size}: cosigned by {cosigned}")
                for failure in done.failed:
                    click.echo(f"  not cosigned by {failure}", err=True)
            if once:
                return
            time.sleep(policy.every_s)
    finally:
        store.close()
