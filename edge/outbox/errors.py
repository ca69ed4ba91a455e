"""The outbox's exception tree: one root, one subclass per thing a caller handles differently.

``str(error)`` is the technician's English and says what to do; ``error.pesan`` is the one
line the kit's screen shows, in Indonesian. Every class here leaves the stored results alone:
no error path deletes or rewrites anything already committed.
"""

from __future__ import annotations

from edge.errors import EdgeError


class OutboxError(EdgeError):
    """Root of every error raised by edge.outbox."""

    pesan = "Kotak keluar bermasalah: panggil teknisi"


class CorruptOutboxError(OutboxError):
    """The database file is damaged, truncated or not an outbox at all.

    The kit must stop signing: without a trustworthy chain head the next document could
    reuse a sequence number. The file still holds results that may not be delivered yet,
    so it must be kept for the technician, never deleted or recreated in place.
    """

    pesan = "Data kotak keluar rusak: jangan dihapus, panggil teknisi"


class SchemaVersionError(OutboxError):
    """The database was written by a newer tps-kit than this one (a downgrade)."""

    pesan = "Versi perangkat lunak terlalu lama: panggil teknisi"


class OutboxBusyError(OutboxError):
    """Another process held the database's write lock for longer than the busy timeout."""

    pesan = "Kotak keluar sibuk: coba lagi"


class ChainError(OutboxError):
    """A document does not continue this kit's hash chain (wrong seq or prev_sha256).

    Raised instead of storing it, so one sequence number can never hold two versions.
    """

    pesan = "Urutan dokumen salah: tandatangani ulang"


class InvalidDocumentError(OutboxError):
    """The bytes offered are not a signed result whose signature holds, or its images differ."""

    pesan = "Dokumen tidak sah: pindai ulang"


class UnknownDocumentError(OutboxError, KeyError):
    """A sequence number or image hash the outbox does not hold (a caller's bug)."""

    def __str__(self) -> str:
        # KeyError would quote the message as a repr; keep it readable.
        return str(self.args[0]) if self.args else ""
