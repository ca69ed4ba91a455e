"""The command-line options by which a reader names the witnesses it trusts, shared by
``tps-verify`` and ``tps-verify recount`` so both read them alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from protocol.witnessing import Quorum

F = TypeVar("F", bound=Callable[..., Any])


def witness_options(what: str) -> Callable[[F], F]:
    """``--witness VKEY`` (repeated) and ``--witnesses-required K``; ``what`` names what
    they must have cosigned, for the help text."""

    def add(command: F) -> F:
        command = click.option(
            "--witnesses-required",
            type=click.IntRange(min=1),
            help=f"How many of the --witness keys must have cosigned {what} (default: all).",
        )(command)
        return click.option(
            "--witness",
            "witness_keys",
            multiple=True,
            metavar="VKEY",
            help="A witness whose cosignature counts (its verifier key, as `tps-hub witness "
            "--print-vkey` shows it); repeat for each.",
        )(command)

    return add


def quorum(keys: tuple[str, ...], required: int | None) -> Quorum | None:
    """The quorum the options name, or None; a usage error for what the reader must fix."""
    try:
        return Quorum.of(keys, required)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
