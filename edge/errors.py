"""The kit's processing errors. Each refusal carries a message a KPPS can act on.

``str(error)`` is the technician's English; ``error.pesan`` is the one line the kit's screen
shows, in Indonesian, saying what to do.
"""

from __future__ import annotations


class EdgeError(Exception):
    """Root of every error raised by edge/."""


class PageRefusedError(EdgeError):
    """A photographed page cannot be read; nothing from it is used.

    ``page`` is the page's number once the reader knows it (from its tag or layout), None when
    the refusal came before that (no tag, a dark frame).
    """

    pesan = "Halaman tidak bisa dibaca: letakkan ulang dan tekan PINDAI"
    page: int | None = None

    def __init__(self, message: str, pesan: str | None = None, *, page: int | None = None) -> None:
        super().__init__(message)
        if pesan is not None:
            self.pesan = pesan
        self.page = page


class TagNotFoundError(PageRefusedError):
    """No page tag: not one of our forms, or the tag is covered or out of the frame."""


class ForeignFormError(PageRefusedError):
    """The page is a form this kit does not know, or of another election, TPS or form."""


# Corner marks in the template's order (top-left, then clockwise), named on the page itself.
MARK_PLACES = ("top left", "top right", "bottom right", "bottom left")
MARK_TEMPAT = ("kiri atas", "kanan atas", "kanan bawah", "kiri bawah")


class MarkMissingError(PageRefusedError):
    """A corner mark was not found where the page tag says it should be.

    ``mark`` is 1-4 in the template's order (top-left, then clockwise on the page).
    """

    def __init__(self, mark: int, *, page: int | None = None) -> None:
        super().__init__(
            f"corner mark {MARK_PLACES[mark - 1]} not found: uncover it, lay the page flat",
            f"Tanda sudut {MARK_TEMPAT[mark - 1]} tidak terlihat: jangan tutupi, ratakan kertas",
            page=page,
        )
        self.mark = mark


class PoorImageError(PageRefusedError):
    """Too skewed, too dark, too blurred or not flat enough to read safely."""


class WrongPageError(PageRefusedError):
    """A page already scanned, or not the page the kit asked for."""


class NotConfirmedError(EdgeError):
    """A form's numbers cannot go into a signed document yet: a doubtful field the KPPS has
    not confirmed, a paper mistake, a missing page, or values that break a rule."""

    pesan = "Belum bisa ditandatangani: periksa angka yang ditandai"

    def __init__(self, message: str, pesan: str | None = None) -> None:
        super().__init__(message)
        if pesan is not None:
            self.pesan = pesan
