"""The look: one doubtful field at a time, its handwriting large beside what the kit reads.

The layout, top to bottom under the title band: the field's digit boxes cut from the photo,
as large as the screen allows (a box's inside at least ``MIN_INTERIOR_PX`` tall, so a digit
written to three quarters of its box is 150 px tall or more); the value shown, in
``VALUE_CAPS`` type; the rule that involves the field, with the numbers of the reading shown;
what each button does now. On a form with bubbles the field's bubble columns stand right of
the boxes, 0 at the top as on the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from firmware.screen.base import Buttons, Tone
from firmware.screen.crop import FieldPhoto, box_images, column_images
from firmware.screen.draw import INK, MIN_CAPS, Canvas, Rect, fit, pitch, text_width
from firmware.screen.words import compact_sum

MAX_BOX_PX = 232  # a box at most this tall: room for the value, the rule and the keys
MIN_INTERIOR_PX = 200  # a box's inside at least this tall on the screen
BOX_GAP = 6
VALUE_CAPS = 48  # twice the smallest text on the screen
LABEL_CAPS = 28
RULE_LINES = 2
BUBBLES_W = 80  # the bubble columns' panel, with its 0 and 9
VALUE_INK = (150, 60, 0)  # the value shown: the look's orange, dark enough for large type
FRAME = (190, 80, 0)
WHERE_INK = (90, 90, 90)


@dataclass(frozen=True)
class LookView:
    title: str  # "Cek 1 dari 2: Paslon 2"
    photo: FieldPhoto
    label: str  # what the value is: "Kit membaca", "Bacaan lain"; empty for the rescan
    value: str  # the value in large type ("48"), or the rescan option's question
    where: str  # where the field is on the paper: "halaman 2"
    lines: Sequence[str] = ()  # the rule with its numbers, or what to do
    buttons: Buttons = field(default_factory=Buttons)
    tone: Tone = Tone.LOOK
    kind: str = "look"


def draw_look(canvas: Canvas, view: LookView, area: Rect, buttons_top: int) -> None:
    """Everything below the title band, above the buttons' row."""
    photo = view.photo
    bubbles = bool(photo.bubbles)
    boxes_w = area.w - (BUBBLES_W + BOX_GAP if bubbles else 0)
    n = len(photo.boxes)
    box_w_mm, box_h_mm = photo.box_mm
    below = 8 + VALUE_CAPS + RULE_LINES * pitch(MIN_CAPS) + 14  # value row, rule, gaps
    height = min(MAX_BOX_PX, buttons_top - area.y - below)
    width_for_box = (boxes_w - (n - 1) * BOX_GAP) / n
    k = min(height / box_h_mm, width_for_box / box_w_mm)
    x = area.x
    for i, image in enumerate(box_images(photo, k)):
        rect = canvas.picture(f"box {i + 1}", image, x, area.y, k)
        canvas.frame(rect, FRAME, 2)
        x = rect.right + BOX_GAP
    box_bottom = area.y + round(box_h_mm * k)
    if bubbles:
        _bubbles(canvas, photo, Rect(area.right - BUBBLES_W, area.y, BUBBLES_W, 0), buttons_top)
    baseline = box_bottom + 8 + VALUE_CAPS
    x = area.x
    if view.label:
        x = canvas.text(f"{view.label}:", area.x, baseline, LABEL_CAPS).right + 16
    caps = fit(view.value, area.x + boxes_w - x, (VALUE_CAPS, 40, 32))
    value = canvas.text(view.value, x, baseline, caps, VALUE_INK)
    where_x = area.x + boxes_w - text_width(view.where, MIN_CAPS)
    if where_x > value.right + 16:  # a help to find it on the paper, where there is room
        canvas.text(view.where, where_x, baseline, MIN_CAPS, WHERE_INK)
    text = Rect(area.x, baseline + 10, boxes_w, buttons_top - baseline - 12)
    lines = [compact_sum(s) if text_width(s, MIN_CAPS) > text.w else s for s in view.lines]
    canvas.paragraph(lines, text, (28, 26, MIN_CAPS), spaced=False)


def _bubbles(canvas: Canvas, photo: FieldPhoto, panel: Rect, bottom: int) -> None:
    """The bubble columns side by side, 0 and 9 written above and below them."""
    caps = MIN_CAPS
    top = panel.y + pitch(caps)
    room = bottom - top - pitch(caps) - 8
    col_w_mm, col_h_mm = photo.column_mm
    n = len(photo.bubbles)
    k = min(room / col_h_mm, (panel.w - (n - 1) * 4) / (n * col_w_mm))
    images = column_images(photo, k)
    span = sum(i.shape[1] for i in images) + (n - 1) * 4
    x = panel.x + (panel.w - span) // 2
    for i, image in enumerate(images):
        rect = canvas.picture(f"bubbles {i + 1}", image, x, top, k)
        canvas.frame(rect, FRAME, 1)
        x = rect.right + 4
    digit_w = text_width("0", caps)
    centre = panel.x + panel.w // 2 - digit_w // 2
    canvas.text("0", centre, top - 8, caps, INK)
    canvas.text("9", centre, top + images[0].shape[0] + 8 + caps, caps, INK)
