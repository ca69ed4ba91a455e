"""The images table: page images, stored once each by their hash, after a document of the
same kit names them (DocumentTable.image_named_by)."""

from __future__ import annotations

from hub.store.db import Database


class ImageTable:
    db: Database

    def insert_image(self, sha256: str, kit: str, data: bytes, source: str, now: str) -> bool:
        """Store an image, no longer awaited; False if it was already stored (the same
        bytes: its hash)."""
        row = self.db.one(
            "INSERT INTO images (sha256, kit, data, size, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
            (sha256, kit, data, len(data), source, now),
        )
        if row is None:
            return False
        self.db.execute("DELETE FROM awaited_images WHERE sha256 = ?", (sha256,))
        return True

    def image(self, sha256: str) -> bytes | None:
        row = self.db.one("SELECT data FROM images WHERE sha256 = ?", (sha256,))
        return None if row is None else bytes(row[0])

    def has_image(self, sha256: str) -> bool:
        """Whether the image is stored, without reading its megabytes."""
        return self.db.one("SELECT 1 FROM images WHERE sha256 = ?", (sha256,)) is not None
