"""The kit's processing errors. Each refusal carries a message a KPPS can act on.

``str(error)`` is the technician's English; ``error.pesan`` is the one line the kit's screen
shows, in Indonesian, saying what to do.
"""

from __future__ import annotations


class EdgeError(Exception):
    """Root of every error raised by edge/."""


class PageRefusedError(EdgeError):
    """A photographed page cannot be read; nothing from it is used."""

    pesan = "Halaman tidak bisa dibaca: letakkan ulang dan tekan PINDAI"

    def __init__(self, message: str, pesan: str | None = None) -> None:
        super().__init__(message)
        if pesan is not None:
            self.pesan = pesan


class TagNotFoundError(PageRefusedError):
    """No page tag: not one of our forms, or the tag is covered or out of the frame."""


class ForeignFormError(PageRefusedError):
    """The page is a form this kit does not know, or of another election, TPS or form."""


class MarkMissingError(PageRefusedError):
    """A corner mark was not found where the page tag says it should be."""

    def __init__(self, mark: int, message: str | None = None) -> None:
        super().__init__(
            message or f"lay the page flat: corner mark {mark} not found",
            f"Ratakan kertas: tanda sudut {mark} tidak terlihat",
        )
        self.mark = mark


class PoorImageError(PageRefusedError):
    """Too skewed, too dark, too blurred or not flat enough to read safely."""


class WrongPageError(PageRefusedError):
    """A page already scanned, or not the page the kit asked for."""


class ModelError(EdgeError):
    """The digit model is missing, corrupt or not the expected one."""


class NotConfirmedError(EdgeError):
    """A form's numbers cannot go into a signed document yet: a doubtful field the KPPS has
    not confirmed, a paper mistake, a missing page, or values that break a rule."""

    pesan = "Belum bisa ditandatangani: periksa angka yang ditandai"

    def __init__(self, message: str, pesan: str | None = None) -> None:
        super().__init__(message)
        if pesan is not None:
            self.pesan = pesan
