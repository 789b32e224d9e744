"""Photos from local actions: re-encoded before anything keeps them.

A phone's photo carries where and when it was taken (EXIF GPS), the device, and more
(XMP, ICC comments). At a rally outside an ICE office that can expose a person, so the
photo is decoded and drawn anew on a blank image, which carries no metadata at all, at
most MAX_SIDE pixels on its longer side. Anything that does not decode as a photo, or
would decode into an enormous image (a decompression bomb), is refused.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 30_000_000  # past this, a bomb: phones save 12 to 50 megapixels, JPEGs shrink on load
FORMATS = ("JPEG", "PNG", "WEBP")
QUALITY = 85


class PhotoRefused(ValueError):
    """Not a photo this server takes; the message says why."""


def clean_photo(data: bytes) -> bytes:
    """The photo as a metadata-free JPEG of at most MAX_SIDE pixels a side."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(f"a photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
                if opened.format == "JPEG":
                    opened.draft("RGB", (2 * MAX_SIDE, 2 * MAX_SIDE))  # decode at a fraction of the size
                elif opened.width * opened.height > MAX_PIXELS:
                    raise PhotoRefused("the photo is too large once decoded")
                upright = ImageOps.exif_transpose(opened)  # turn it as the camera meant
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                # On white: what lies under transparent pixels is not for the public either.
                pixels = Image.new("RGB", upright.size, "white")
                pixels.paste(upright.convert("RGBA"), mask=upright.convert("RGBA"))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        kind = type(error).__name__
        raise PhotoRefused(f"not a photo this server takes: JPEG, PNG or WebP ({kind})") from None
    except (OSError, ValueError, SyntaxError) as error:  # a truncated or broken file
        raise PhotoRefused(f"the photo cannot be read: {error}") from None
    blank = Image.new("RGB", pixels.size)  # a new image: no EXIF, XMP, ICC or comments
    blank.paste(pixels)
    out = io.BytesIO()
    blank.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
