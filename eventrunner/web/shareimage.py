"""The picture social sites show with a link to the participant page (Open Graph,
1200x630): the day's hashtags, its title and its date, white on the site's accent colour.

Texts shrink and wrap until they fit their box, and are cut with an ellipsis at the
smallest size, so no title, however long, leaves the canvas.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
GAP = 40  # between the hashtags, the title and the date
BACKGROUND = "#6b1f5c"  # static/css/site.css --accent: 9.9:1 with white
INK = "#ffffff"
LINE_HEIGHT = 1.2
ELLIPSIS = "…"

# Debian's fonts-dejavu-core. Without it, Pillow's own scalable font (Pillow >= 10.1),
# which has no bold and fewer characters, but always loads.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
REGULAR = FONT_DIR / "DejaVuSans.ttf"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont | ImageFont.TransposedFont


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> Font:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Block:
    lines: list[str]
    font: Font
    line_height: int

    @property
    def height(self) -> int:
        return len(self.lines) * self.line_height


def _split_word(word: str, font: Font, width: int) -> list[str]:
    """A word wider than the box (a long hashtag or URL), in pieces that fit."""
    pieces, piece = [], ""
    for char in word:
        if piece and font.getlength(piece + char) > width:
            pieces.append(piece)
            piece = ""
        piece += char
    return [*pieces, piece] if piece else pieces


def _wrap(text: str, font: Font, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *whole, line = _split_word(word, font, width)
        lines.extend(whole)
    return [*lines, line] if line else lines


def _cut(line: str, font: Font, width: int) -> str:
    while line and font.getlength(line + ELLIPSIS) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def fit(text: str, path: Path, sizes: Sequence[int], width: int, height: int, max_lines: int) -> Block:
    """The largest of `sizes` (largest first) at which `text` wraps into the box without
    breaking a word; at the smallest, the lines that fit, the last one ending in an
    ellipsis, and words broken where they must be."""
    for size in sizes:
        font = _font(path, size)
        line_height = round(size * LINE_HEIGHT)
        lines = _wrap(text, font, width)
        whole_words = all(font.getlength(word) <= width for word in text.split())
        if whole_words and len(lines) <= max_lines and len(lines) * line_height <= height:
            return Block(lines, font, line_height)
    room = max(1, min(max_lines, height // line_height))
    if len(lines) > room:
        lines = [*lines[: room - 1], _cut(lines[room - 1], font, width)]
    return Block(lines, font, line_height)


def _draw(draw: ImageDraw.ImageDraw, block: Block, top: int) -> None:
    for index, line in enumerate(block.lines):
        draw.text((MARGIN, top + index * block.line_height), line, font=block.font, fill=INK)


@lru_cache(maxsize=8)
def share_image(title: str, hashtags: tuple[str, ...], date_text: str) -> bytes:
    """The PNG. Cached: it changes only when the schedule's texts do, and social sites
    fetch it for every post of the link."""
    inner = WIDTH - 2 * MARGIN
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    tags = fit(" ".join(hashtags), BOLD, (44, 38, 32), inner, 2 * 54, max_lines=2) if hashtags else None
    day = fit(date_text, REGULAR, (40, 34, 28), inner, 48, max_lines=1)
    top = MARGIN + (tags.height + GAP if tags else 0)
    bottom = HEIGHT - MARGIN - day.height
    title = fit(title, BOLD, range(88, 39, -4), inner, bottom - GAP - top, max_lines=5)
    if tags:
        _draw(draw, tags, MARGIN)
    # The title in the middle of the room left between the hashtags and the date.
    _draw(draw, title, top + (bottom - GAP - top - title.height) // 2)
    _draw(draw, day, bottom)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
