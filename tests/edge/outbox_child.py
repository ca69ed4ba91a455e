"""Helper processes for the outbox tests (run as a script, never imported by pytest).

    outbox_child.py zygote DB KITDIR   read "run SEED" lines; fork a worker per line
    outbox_child.py writer DB KITDIR N seal N documents while another writer does too
    outbox_child.py hold DB SECONDS    hold the database's write lock, then release it

A worker is what the kill test SIGKILLs: it seals documents with the kit's real key into
the outbox, and moves some through sent and acknowledged. It prints a line before
each step ("phase ...") and one after each commit returns ("committed SEQ SHA", "sent SEQ",
"final SEQ STATE", "image SHA"), flushed, so the parent knows what it may expect to find.
The zygote imports everything once and forks, so each of the many runs costs milliseconds
rather than an interpreter start; the worker opens the outbox only after the fork.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509 import Certificate

from edge.outbox import Outbox, State
from protocol import certs, keys
from protocol.document import DecidedResult, evidence

FIELDS = ("IV.1", "IV.2", "IV.3", "V.A", "V.B", "V.C")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def load_kit(kit_dir: Path) -> tuple[Ed25519PrivateKey, Certificate]:
    key = keys.load_private_key(kit_dir / "kit.key.pem")
    cert = certs.load_certificate((kit_dir / "kit.cert.pem").read_bytes())
    return key, cert


def make_decided(rng: random.Random, cert: Certificate) -> tuple[DecidedResult, dict[int, bytes]]:
    """A valid PPWP result (as tests/conftest.py make_decided) and its page images."""
    names = certs.urns(cert)
    # Stand-ins for page photos: a few KB so a seal spans several database pages.
    images = {p: rng.randbytes(rng.randint(2_000, 12_000)) for p in range(1, rng.randint(2, 4))}
    a, b, c = rng.randint(0, 150), rng.randint(0, 150), rng.randint(0, 150)
    values = {"IV.1": a, "IV.2": b, "IV.3": c, "V.A": a + b + c, "V.B": 3, "V.C": a + b + c + 3}
    decided = DecidedResult(
        election=names["election"],
        form="ppwp-plano",
        form_version=1,
        tps=names["tps"],
        kit=names["kit"],
        captured_at=dt.datetime.now(dt.UTC),
        fields=values,
        evidence={k: evidence(9990, "read") for k in FIELDS},
        model_sha256=hashlib.sha256(b"model").hexdigest(),
        template_sha256=hashlib.sha256(b"template").hexdigest(),
    )
    return decided, images


def bookkeeping(rng: random.Random, outbox: Outbox) -> None:
    """Move a few documents forward as the uplink would: PUBACKs, verdicts, images."""
    for entry in outbox.pending(limit=5):
        if entry.state == State.QUEUED and rng.random() < 0.7:
            say(f"phase send {entry.seq}")
            outbox.mark_sent(entry.seq)
            say(f"sent {entry.seq}")
        elif entry.state == State.SENT and rng.random() < 0.6:
            accepted = rng.random() < 0.85
            say(f"phase ack {entry.seq}")
            outbox.acknowledge(entry.sha256, accepted, None if accepted else "uji: ditolak")
            say(f"final {entry.seq} {'acknowledged' if accepted else 'rejected'}")
    for image in outbox.pending_images(limit=2):
        say(f"phase image {image.sha256}")
        outbox.mark_image_sent(image.sha256)
        say(f"image {image.sha256}")


def worker(db: Path, kit_dir: Path, seed: int) -> None:
    rng = random.Random(seed)
    key, cert = load_kit(kit_dir)
    say("phase open")
    outbox = Outbox.open(db)
    say("ready")
    while True:
        say("phase decide")
        decided, images = make_decided(rng, cert)
        say("phase seal")
        entry = outbox.seal(decided, images, key, cert)
        say(f"committed {entry.seq} {entry.sha256}")
        bookkeeping(rng, outbox)


def zygote(db: Path, kit_dir: Path) -> None:
    for line in sys.stdin:
        if not line.startswith("run "):
            break
        sys.stdout.flush()  # nothing buffered may be duplicated into the child
        pid = os.fork()
        if pid == 0:
            try:
                worker(db, kit_dir, int(line.split()[1]))
            except BaseException as e:  # a worker must never fall back into the loop
                say(f"error {type(e).__name__}: {e}")
                os._exit(3)
            os._exit(0)
        say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


def writer(db: Path, kit_dir: Path, count: int) -> None:
    """One of two processes adding to the same outbox at once."""
    rng = random.Random(os.getpid())
    key, cert = load_kit(kit_dir)
    outbox = Outbox.open(db, busy_timeout=30)
    for _ in range(count):
        decided, images = make_decided(rng, cert)
        entry = outbox.seal(decided, images, key, cert)  # the other writer waits its turn
        say(f"committed {entry.seq} {entry.sha256}")


def hold(db: Path, seconds: float) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    say("locked")
    time.sleep(seconds)
    conn.execute("COMMIT")
    say("released")


def main(argv: list[str]) -> None:
    mode, db = argv[0], Path(argv[1])
    if mode == "zygote":
        zygote(db, Path(argv[2]))
    elif mode == "writer":
        writer(db, Path(argv[2]), int(argv[3]))
    elif mode == "hold":
        hold(db, float(argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
