"""The public copy of a photo: decoded once, turned upright, shrunk, re-encoded with no metadata.

Whatever EXIF, XMP or ICC data the original carries (GPS, device serials, faces' owners' names)
never reaches the public copy: only pixels are re-encoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

LONG_SIDE = 1600
THUMB_SIDE = 320
JPEG_QUALITY = 82
# A 15 MB upload has no business holding more than 60 megapixels (a 12 MP phone photo is 12);
# more is a decompression bomb, refused before any pixel is decoded.
MAX_PIXELS = 60_000_000


class NotAnImage(ValueError):
    """The bytes do not decode to a picture we accept."""


@dataclass(frozen=True, slots=True)
class PublicCopies:
    full: bytes
    thumbnail: bytes
    width: int
    height: int


def _register_heif() -> None:
    # pillow-heif is imported only here: the API functions never pay for it at cold start.
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _encode(image: Image.Image, side: int) -> tuple[bytes, tuple[int, int]]:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    # Pillow carries over what it read into `info` (a JPEG comment, for one): start empty, and
    # pass no exif=, icc_profile= or xmp=, so nothing but pixels is written.
    copy.info = {}
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), copy.size


def public_copies(data: bytes) -> PublicCopies:
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage(f"{image.width}x{image.height} pixels is more than allowed")
            if image.format == "JPEG":
                # Decode at the smallest DCT scale that still covers the long side.
                image.draft("RGB", (LONG_SIDE, LONG_SIDE))
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
    except NotAnImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise NotAnImage(f"the file does not decode as an image ({exc})") from None
    full, (width, height) = _encode(rgb, LONG_SIDE)
    thumbnail, _ = _encode(rgb, THUMB_SIDE)
    return PublicCopies(full=full, thumbnail=thumbnail, width=width, height=height)
