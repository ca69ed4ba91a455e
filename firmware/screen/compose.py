"""Drawing each view onto the screen: the title band in the view's tone, the view, and the
buttons' row; the LATIHAN band of a training kit is drawn here, once, so no view can forget it.

The LATIHAN band runs down the left edge (purple, the word written along it): it marks every
screen and every photo of one, and takes width rather than height, which the look needs for
the handwriting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from firmware.screen.base import (
    TONES,
    TRAINING,
    Buttons,
    MistakeView,
    NumbersView,
    ReceiptView,
    StatusView,
)
from firmware.screen.draw import (
    DESCENT,
    INK,
    MIN_CAPS,
    WHITE,
    Canvas,
    Drawn,
    Rect,
    fit,
    pitch,
    text_height,
    text_width,
    wrap,
)
from firmware.screen.look import LookView, draw_look
from protocol.receipt import TRAINING_MARK

MARGIN = 12
TRAINING_W = 36
TITLE_CAPS = (32, 30, 28, 26, MIN_CAPS)
LOOK_TITLE_CAPS = (28, 26, MIN_CAPS)  # the look needs the height for the handwriting
BODY_CAPS = (32, 30, 28, 26, MIN_CAPS)
KEY_CAPS = MIN_CAPS
RULE_CAPS = (40, 36, 32, 28)  # a paper mistake's broken rule
MISTAKE_INK = (120, 0, 0)
RECEIPT_TEXT_W = 440  # the receipt's words beside its QR code: a TPS code on one line


class ComposedScreen:
    """The Screen the kit uses: draws each view, then hands it to a Display. ``last`` keeps
    the last canvas drawn (its record of every text and picture), for the tests."""

    def __init__(self, display: object, *, training: bool) -> None:
        self.display = display
        self.training = training
        self.last: Canvas | None = None

    def show(self, view: object) -> None:
        width, height = self.display.size  # type: ignore[attr-defined]
        canvas = compose(width, height, view, training=self.training)
        self.last = canvas
        words = [TRAINING_MARK] if self.training else []
        words += view_words(view)
        self.display.present(canvas.image, "\n".join(words), view.kind)  # type: ignore[attr-defined]


def view_words(view: object) -> list[str]:
    """The view's words, for logs and the one-shot scan's output."""
    title: str = view.title  # type: ignore[attr-defined]
    words = [title]
    if isinstance(view, LookView):
        words.append(f"{view.label}: {view.value}")
    if isinstance(view, MistakeView):
        words += [view.where, *view.rule]
    if isinstance(view, NumbersView):
        words += [f"{name}: {value}" for name, value in view.numbers]
    words += list(view.lines)  # type: ignore[attr-defined]
    if isinstance(view, ReceiptView):
        words += [*receipt_lines(view), f"QR: {view.qr_text}"]
    buttons: Buttons = view.buttons  # type: ignore[attr-defined]
    if buttons.scan:
        words.append(f"[PINDAI] {buttons.scan}")
    if buttons.confirm:
        words.append(f"[KONFIRMASI] {buttons.confirm}")
    return words


def compose(width: int, height: int, view: object, *, training: bool) -> Canvas:
    """One screen: [LATIHAN band], the title band, the view, the buttons' row."""
    canvas = Canvas(width, height)
    left = _training_band(canvas) if training else 0
    sizes = LOOK_TITLE_CAPS if isinstance(view, LookView) else TITLE_CAPS
    band_bottom = _title(canvas, left, view.title, TONES[view.tone], sizes)  # type: ignore[attr-defined]
    buttons_top = _buttons(canvas, left, view.buttons)  # type: ignore[attr-defined]
    area = Rect(left + MARGIN, band_bottom + 8, width - left - 2 * MARGIN, 0)
    area = Rect(area.x, area.y, area.w, buttons_top - area.y - 6)
    if isinstance(view, LookView):
        draw_look(canvas, view, area, buttons_top)
    elif isinstance(view, NumbersView):
        _numbers(canvas, view, area)
    elif isinstance(view, MistakeView):
        _mistake(canvas, view, area)
    elif isinstance(view, ReceiptView):
        _receipt(canvas, view, area)
    elif isinstance(view, StatusView):
        canvas.paragraph(view.lines, area, BODY_CAPS)
    else:
        raise TypeError(f"no layout for {type(view).__name__}")
    return canvas


def qr_image(text: str, *, module_px: int = 6, border: int = 4) -> np.ndarray:
    """The QR code of ``text`` (segno, error correction M) as an RGB image."""
    import segno

    code = segno.make(text, error="m", micro=False)
    matrix = np.array([list(row) for row in code.matrix], np.uint8)
    matrix = np.pad(matrix, border)
    pixels = np.where(np.kron(matrix, np.ones((module_px, module_px), np.uint8)), 0, 255)
    return np.repeat(pixels.astype(np.uint8)[:, :, None], 3, axis=2)


# -- parts ------------------------------------------------------------------------------------


def _training_band(canvas: Canvas) -> int:
    """The purple band down the left edge, LATIHAN written along it; returns its width."""
    strip = Canvas(canvas.height, TRAINING_W)  # drawn across, then turned upright
    strip.band(Rect(0, 0, strip.width, strip.height), TRAINING)
    caps = MIN_CAPS
    word = f"{TRAINING_MARK}  -  {TRAINING_MARK}"
    x = (strip.width - text_width(word, caps)) // 2
    strip.text(word, x, (TRAINING_W + caps) // 2, caps, WHITE)
    canvas.image[:, :TRAINING_W] = np.rot90(strip.image)  # reads from the bottom up
    canvas.bands.append((Rect(0, 0, TRAINING_W, canvas.height), TRAINING))
    for drawn in strip.texts:  # the record in the screen's own coordinates
        canvas.texts.append(
            Drawn(drawn.text, drawn.caps, Rect(0, 0, TRAINING_W, canvas.height), WHITE)
        )
    return TRAINING_W


def _title(
    canvas: Canvas, left: int, title: str, colour: tuple[int, int, int], sizes: Sequence[int]
) -> int:
    """The title band in the view's tone: one line if it fits at a readable size, else
    two; returns the band's bottom."""
    width = canvas.width - left - 2 * MARGIN
    caps = fit(title, width, sizes)
    lines = [title]
    if text_width(title, caps) > width:
        caps, lines = MIN_CAPS, wrap([title], width, MIN_CAPS)
    pad = 10
    height = caps + 2 * pad + (len(lines) - 1) * pitch(caps) + round(DESCENT * caps) // 2
    canvas.band(Rect(left, 0, canvas.width - left, height), colour)
    for i, line in enumerate(lines):
        canvas.text(line, left + MARGIN, pad + caps + i * pitch(caps), caps, WHITE)
    return height


def _buttons(canvas: Canvas, left: int, buttons: Buttons) -> int:
    """The buttons' row at the bottom: PINDAI on the left, KONFIRMASI on the right (two
    rows if they do not fit side by side); returns the row's top."""
    keys = [(n, a) for n, a in (("PINDAI", buttons.scan), ("KONFIRMASI", buttons.confirm)) if a]
    if not keys:
        return canvas.height - 6
    caps = KEY_CAPS
    pad = caps // 4
    row = caps + 2 * pad + 8
    widths = [text_width(n, caps) + 3 * pad + text_width(a, caps) for n, a in keys]
    room = canvas.width - left - 2 * MARGIN
    one_row = sum(widths) + 2 * MARGIN <= room  # two keys apart by twice the margin
    top = canvas.height - (row if one_row else row * len(keys)) - 2
    canvas.image[top - 2 : top, left:] = (200, 200, 200)  # a rule above the keys
    for i, ((name, action), w) in enumerate(zip(keys, widths, strict=True)):
        x = left + MARGIN
        baseline = top + 4 + pad + caps
        if not one_row:
            baseline += i * row
        elif name == "KONFIRMASI":  # always at the right, where the kit's layout puts it
            x = canvas.width - MARGIN - w
        canvas.key(name, action, x, baseline, caps)
    return top - 4


def _numbers(canvas: Canvas, view: NumbersView, area: Rect) -> None:
    """Name and value per row, values right-aligned, in one column or two at the largest
    size that fits; numbers beyond two columns at the smallest size are counted, not cut."""
    numbers = list(view.numbers)
    lines = list(view.lines)
    room = area.h - text_height(lines, area.w, MIN_CAPS) - 18
    layout = None
    for cols in (1, 2):
        rows = -(-len(numbers) // cols)
        for c in (36, *BODY_CAPS):
            if rows * pitch(c) <= room and _numbers_fit(numbers, area.w // cols - 24, c):
                layout = (cols, c)
                break
        if layout:
            break
    if layout is None:  # too many for the screen: as many as fit, and how many more
        lines.insert(0, f"... dan {len(numbers)} angka lain.")  # the longest it can be
        room = area.h - text_height(lines, area.w, MIN_CAPS) - 18
        shown = numbers[: 2 * max(1, room // pitch(MIN_CAPS))]
        lines[0] = f"... dan {len(numbers) - len(shown)} angka lain."
        numbers, layout = shown, (2, MIN_CAPS)
    columns, caps = layout
    rows = -(-len(numbers) // columns)
    col_w = area.w // columns
    for i, (name, value) in enumerate(numbers):
        x = area.x + (i // rows) * col_w
        baseline = area.y + (i % rows) * pitch(caps) + caps + 6
        canvas.text(name, x, baseline, caps)
        vw = text_width(value, caps)
        canvas.text(value, x + col_w - 24 - vw, baseline, caps, INK)
    top = area.y + rows * pitch(caps) + 12
    canvas.paragraph(lines, Rect(area.x, top, area.w, area.bottom - top), (28, MIN_CAPS))


def _numbers_fit(numbers: list[tuple[str, str]], width: int, caps: int) -> bool:
    return all(text_width(f"{n}  {v}", caps) <= width for n, v in numbers)


def _mistake(canvas: Canvas, view: MistakeView, area: Rect) -> None:
    """Where, then the broken rule in large type, then what to do."""
    y = canvas.paragraph([view.where], area, (32, 28))
    rule_box = Rect(area.x + 20, y + 4, area.w - 20, area.bottom - y - 4)
    # As large as leaves room for what to do below it.
    big = [
        c for c in RULE_CAPS if len(wrap(view.rule, rule_box.w, c)) * pitch(c) <= rule_box.h * 0.62
    ]
    sizes = big or (28, MIN_CAPS)
    y = canvas.paragraph(view.rule, rule_box, sizes, MISTAKE_INK, spaced=False)
    canvas.paragraph(
        view.lines, Rect(area.x, y + 8, area.w, area.bottom - y - 8), (28, 26, MIN_CAPS)
    )


def _receipt(canvas: Canvas, view: ReceiptView, area: Rect) -> None:
    """The QR code, each module a whole number of pixels (a phone reads it off the glass),
    and the lines beside it."""
    text = view.qr_text
    one = qr_image(text, module_px=1)
    # The words need their widest line at the smallest text; a hash's letters differ in width.
    words = max(
        [RECEIPT_TEXT_W, *(text_width(line, MIN_CAPS) + 16 for line in receipt_lines(view))]
    )
    module = max(1, min(area.h, area.w - words) // one.shape[0])
    qr = qr_image(text, module_px=module)
    rect = canvas.picture("qr", qr, area.x, area.y)
    right = Rect(rect.right + 16, area.y, area.right - rect.right - 16, area.h)
    y = canvas.paragraph(view.lines, right, (28, 26, MIN_CAPS))
    below = Rect(right.x, y + 12, right.w, area.bottom - y - 12)
    canvas.paragraph(receipt_lines(view), below, (MIN_CAPS,), (70, 70, 70))


def receipt_lines(view: ReceiptView) -> list[str]:
    """What the QR code holds, for a saksi to write down: TPS, number and the hash's start."""
    receipt = view.receipt
    start = " ".join(receipt.sha256[i : i + 4] for i in range(0, 12, 4))
    return [f"TPS {receipt.tps}", f"No. {receipt.seq}", f"Kode {start}"]
