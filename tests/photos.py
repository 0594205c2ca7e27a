"""Test photos made on the fly: real JPEG files with the EXIF a phone would write."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image
from PIL.TiffImagePlugin import IFDRational


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = ((value - degrees) * 60 - minutes) * 60
    return (
        IFDRational(degrees, 1),
        IFDRational(minutes, 1),
        IFDRational(round(seconds * 1e6), 10**6),
    )


def jpeg(
    *,
    lat: float | None = None,
    lon: float | None = None,
    taken_at: datetime | None = None,
    size: tuple[int, int] = (1200, 900),
    orientation: int = 1,
    extra_exif: bool = True,
) -> bytes:
    """A JPEG with GPS (when given), DateTimeOriginal with its offset, camera make and model."""
    image = Image.new("RGB", size)
    # A gradient rather than a flat colour, so the encoder has something to compress.
    image.putdata(
        [
            ((x * 7) % 256, (y * 5) % 256, (x + y) % 256)
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    if extra_exif:
        exif[0x010F] = "Samsung"
        exif[0x0110] = "Galaxy A54"
    if lat is not None and lon is not None:
        exif[0x8825] = {
            1: "S" if lat < 0 else "N",
            2: _dms(lat),
            3: "W" if lon < 0 else "E",
            4: _dms(lon),
        }
    if taken_at is not None:
        offset = taken_at.strftime("%z")
        exif[0x8769] = {
            0x9003: taken_at.strftime("%Y:%m:%d %H:%M:%S"),
            0x9011: f"{offset[:3]}:{offset[3:]}" if offset else "",
        }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()
