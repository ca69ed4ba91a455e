"""Helper processes for the outbox tests (run as a script, never imported by pytest).

    outbox_child.py zygote DB KITDIR   read "run SEED" lines; fork a worker per line
    outbox_child.py writer DB KITDIR N add N documents, retrying when another writer wins
    outbox_child.py hold DB SECONDS    hold the database's write lock, then release it

A worker is what the kill test SIGKILLs: it signs documents with the kit's real key, adds
them to the outbox, and moves some through sent and acknowledged. It prints a line before
each step ("phase ...") and one after each commit returns ("committed SEQ SHA", "sent SEQ",
"final SEQ STATE", "image SHA"), flushed, so the parent knows what it may expect to find.
The zygote imports everything once and forks, so each of the many runs costs milliseconds
rather than an interpreter start; the worker opens the outbox only after the fork.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509 import Certificate

from edge.outbox import ChainError, Outbox, State
from protocol import certs, keys
from protocol.document import parse_document
from protocol.result import sign_result

FIELDS = ("IV.1", "IV.2", "IV.3", "V.A", "V.B", "V.C")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def load_kit(kit_dir: Path) -> tuple[Ed25519PrivateKey, Certificate]:
    key = keys.load_private_key(kit_dir / "kit.key.pem")
    cert = certs.load_certificate((kit_dir / "kit.cert.pem").read_bytes())
    return key, cert


def make_signed(
    rng: random.Random, outbox: Outbox, key: Ed25519PrivateKey, cert: Certificate
) -> tuple[bytes, list[bytes]]:
    """A valid PPWP result (as tests/conftest.py make_document) continuing the chain."""
    names = certs.urns(cert)
    head = outbox.next_chain()
    # Stand-ins for page photos: a few KB so an add spans several database pages.
    images = [rng.randbytes(rng.randint(2_000, 12_000)) for _ in range(rng.randint(1, 3))]
    a, b, c = rng.randint(0, 150), rng.randint(0, 150), rng.randint(0, 150)
    values = {"IV.1": a, "IV.2": b, "IV.3": c, "V.A": a + b + c, "V.B": 3, "V.C": a + b + c + 3}
    value: dict[str, Any] = {
        "format": "tps-result/1",
        "election": names["election"],
        "form": "ppwp-plano",
        "form_version": 1,
        "tps": names["tps"],
        "kit": names["kit"],
        "seq": head.seq,
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fields": values,
        "evidence": {k: {"confidence": 9990, "decision": "read"} for k in FIELDS},
        "pages": [
            {"page": i + 1, "sha256": hashlib.sha256(img).hexdigest()}
            for i, img in enumerate(images)
        ],
        "model_sha256": hashlib.sha256(b"model").hexdigest(),
        "template_sha256": hashlib.sha256(b"template").hexdigest(),
        "prev_sha256": head.prev_sha256,
    }
    return sign_result(parse_document(value), key, cert), images


def readd_head(outbox: Outbox) -> None:
    """What firmware does after a restart when unsure its last add committed: add again."""
    head = outbox.next_chain()
    if head.seq == 1:
        return
    entry = outbox.get(head.seq - 1)
    images = [outbox.image(sha) for _, sha in entry.pages]
    say(f"phase readd {entry.seq}")
    again = outbox.add(entry.signed, images)
    assert again.seq == entry.seq and outbox.next_chain() == head, "re-add made a new version"


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
    readd_head(outbox)
    while True:
        say("phase sign")
        signed, images = make_signed(rng, outbox, key, cert)
        say("phase add")
        entry = outbox.add(signed, images)
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
    added = 0
    while added < count:
        signed, images = make_signed(rng, outbox, key, cert)
        try:
            entry = outbox.add(signed, images)
        except ChainError:
            continue  # the other writer took this seq: sign again on the new head
        say(f"committed {entry.seq} {entry.sha256}")
        added += 1


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
