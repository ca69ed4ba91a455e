"""``tps-kit scan``: one form through the whole path from image files, without buttons.

Read every image as a page, judge the form, and (with ``confirm``) sign it and queue it in
the outbox, exactly as the daemon does on KONFIRMASI; the running daemon's uplink sends it.
A form that needs a look is confirmed field by field with the kit's own values (each
doubtful field signed as ``confirmed``), as a KPPS pressing KONFIRMASI on every look would.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from pathlib import Path

from firmware.assemble import QuietLights, assemble
from firmware.camera.files import FileCamera
from firmware.hardware.patterns import Signal
from firmware.kit import State
from firmware.screen.files import TextDisplay
from protocol.receipt import Receipt


class Outcome(enum.IntEnum):
    """The exit status of ``tps-kit scan``."""

    SIGNED = 0
    NOT_CONFIRMED = 1  # read and judged; run again with --yes to sign
    REFUSED = 2  # a page could not be read, or pages are missing
    PAPER_MISTAKE = 3  # never signed: correct the paper and scan again


def scan_once(
    config: Path,
    images: Sequence[Path],
    *,
    confirm: bool,
    echo: Callable[[str], None],
) -> tuple[Outcome, Receipt | None]:
    assembled = assemble(
        config,
        camera=FileCamera(list(images)),
        display=TextDisplay(echo),
        lights=QuietLights(),
        uplink=False,
    )
    kit = assembled.kit
    try:
        kit.start()
        for _ in images:
            kit.scan()
            if kit.signal == Signal.ERROR:
                return Outcome.REFUSED, None
        if kit.state != State.REVIEW:
            return Outcome.REFUSED, None
        if kit.signal == Signal.PAPER_MISTAKE:
            return Outcome.PAPER_MISTAKE, None
        if not confirm:
            echo("not signed: compare the numbers with the paper, then run again with --yes")
            return Outcome.NOT_CONFIRMED, None
        # KONFIRMASI as often as the screen asks: each doubtful field's look keeps the kit's
        # value, then the result is signed. A look that can only rescan stops here.
        for _ in range(len(kit.look.fields) if kit.look is not None else 0):
            kit.confirm()
            if kit.look is not None and kit.look.rescan:
                return Outcome.NOT_CONFIRMED, None
        kit.confirm()
        if kit.state != State.QUEUED or kit.receipt is None:
            return Outcome.REFUSED, None
        return Outcome.SIGNED, kit.receipt
    finally:
        assembled.close()
