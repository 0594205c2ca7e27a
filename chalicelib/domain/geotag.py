"""Where and when a photo was taken, read from its EXIF without decoding a pixel.

Photos sit in S3 and `read(offset, length)` is a ranged GET, so every container is walked by its
headers and only the EXIF block is fetched (DESIGN.md §3.2). Anything wrong with the file becomes
a `problem` on the result; only the reader's own errors propagate, so an I/O failure is retried
by the queue instead of being blamed on the photo.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from numbers import Real
from typing import Any

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

Reader = Callable[[int, int], bytes]

# One ranged GET of the head covers a JPEG's APP1, which a segment length (u16) caps at 64 KiB.
HEAD = 65536
# Real EXIF blocks are a few KiB (a JPEG thumbnail included, still < 64 KiB); a bigger declared
# length is hostile or broken, and is refused before anything is requested or allocated.
MAX_EXIF = 1 << 20
MAX_META = 1 << 20
MAX_READ = max(HEAD, MAX_EXIF, MAX_META)
# Each read past the head is one ranged GET (~10-20 ms in-region): a file of tiny chunks must
# not turn one photo into thousands of them and a Lambda timeout, which SQS would retry.
# Real photos need 1 to 10 reads; a PNG whose eXIf follows thousands of IDAT chunks is refused.
MAX_READS = 256
# Walks through the head itself cost no reads, only CPU.
MAX_JPEG_SEGMENTS = 1024
MAX_BOXES = 1024
MAX_RIFF_CHUNKS = 1024
MAX_PNG_CHUNKS = 10_000
MAX_EXIF_EXTENTS = 64

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# HEIF brands (ISO/IEC 23008-12 and Apple's): an image or sequence coded with HEVC, or the
# structural brands mif1/msf1. AVIF also lists mif1 but is not a format we accept.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME = 0x9010
OFFSET_TIME_ORIGINAL = 0x9011
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4

_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    HEIC = "heic"
    WEBP = "webp"
    PNG = "png"


@dataclass(frozen=True, slots=True)
class Geotag:
    format: ImageFormat | None
    lat: float | None
    lon: float | None
    problem: str | None
    taken_at: datetime | None
    orientation: int | None
    make: str | None
    model: str | None
    bytes_read: int


class _Problem(Exception):
    """The file, not the reader, is at fault; the message becomes `Geotag.problem`."""


class _Source:
    """The caller's reader, clamped to the file and the read cap, counting what it asks for."""

    def __init__(self, read: Reader, size: int) -> None:
        self._read = read
        self.size = size
        self.bytes_read = 0
        self.reads = 0
        self.error: BaseException | None = None

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        if length > MAX_READ:
            raise _Problem("EXIF block too large")
        if self.reads >= MAX_READS:
            raise _Problem("too many reads")
        self.reads += 1
        self.bytes_read += length
        try:
            data = bytes(self._read(offset, length))
        except BaseException as exc:
            self.error = exc
            raise
        return data[:length]


class _Window:
    """The head in memory; past it, ranged reads of exactly the missing bytes."""

    def __init__(self, source: _Source, head: bytes) -> None:
        self.source = source
        self.head = head

    @property
    def size(self) -> int:
        return self.source.size

    def get(self, offset: int, length: int) -> bytes:
        end = offset + length
        if end <= len(self.head):
            return self.head[offset:end]
        if offset < len(self.head):
            return self.head[offset:] + self.source.read(len(self.head), end - len(self.head))
        return self.source.read(offset, length)

    def exactly(self, offset: int, length: int, what: str) -> bytes:
        data = self.get(offset, length)
        if len(data) != length:
            raise _Problem(f"truncated {what}")
        return data


def sniff(head: bytes) -> ImageFormat | None:
    """The container, by magic bytes only (the declared content type is the client's claim)."""
    if head[:3] == b"\xff\xd8\xff":
        return ImageFormat.JPEG
    if head[:8] == PNG_SIGNATURE:
        return ImageFormat.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[4:8] == b"ftyp" and len(head) >= 12:
        major = head[8:12]
        if major in HEIF_BRANDS:
            return ImageFormat.HEIC
        if major in AVIF_BRANDS:
            return None
        box_end = min(struct.unpack(">I", head[:4])[0], len(head))
        compatible = {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if compatible & HEIF_BRANDS:
            return ImageFormat.HEIC
    return None


def read_geotag(read: Reader, size: int) -> Geotag:
    source = _Source(read, size)
    image_format: ImageFormat | None = None
    exif: Image.Exif | None = None
    lat: float | None = None
    lon: float | None = None
    problem: str | None = None
    try:
        head = source.read(0, min(HEAD, size))
        image_format = sniff(head)
        if image_format is None:
            raise _Problem("not an image")
        tiff = _FINDERS[image_format](_Window(source, head))
        if tiff is None:
            raise _Problem("no EXIF")
        exif = _load_exif(tiff)
        lat, lon = _coordinates(exif)
    except _Problem as exc:
        problem = str(exc)
    except Exception:
        if source.error is not None:
            raise
        problem = "unreadable EXIF"
    details = _details(exif) if exif is not None else _Details()
    return Geotag(
        format=image_format,
        lat=lat if problem is None else None,
        lon=lon if problem is None else None,
        problem=problem,
        taken_at=details.taken_at,
        orientation=details.orientation,
        make=details.make,
        model=details.model,
        bytes_read=source.bytes_read,
    )


# --- containers: each finder returns the TIFF block ("II*\0" / "MM\0*"...) or None -------------


def _jpeg_tiff(window: _Window) -> bytes | None:
    # JPEG (ITU T.81, Annex B): markers FF xx, most followed by a u16 length that counts itself.
    # EXIF is APP1 with "Exif\0\0" (CIPA DC-008); nothing after SOS is metadata we use.
    pos = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        # Marker, length and APP1's 6-byte identifier: one read when past the head.
        header = window.get(pos, 10)
        if len(header) < 2 or header[0] != 0xFF:
            raise _Problem("corrupt JPEG markers")
        marker = header[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn, SOI: no length
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # SOS, EOI
            return None
        if len(header) < 4:
            raise _Problem("corrupt JPEG markers")
        length = struct.unpack(">H", header[2:4])[0]
        if length < 2:
            raise _Problem("corrupt JPEG markers")
        if marker == 0xE1 and length >= 8 and header[4:10] == b"Exif\x00\x00":
            if pos + 2 + length > window.size:
                raise _Problem("truncated EXIF")
            return window.exactly(pos + 10, length - 8, "EXIF")
        pos += 2 + length
    raise _Problem("too many JPEG segments")


def _png_tiff(window: _Window) -> bytes | None:
    # PNG chunks: u32 length, type, data, CRC. eXIf (PNG 3rd edition, earlier the extensions
    # 1.5) holds a bare TIFF block and may follow the IDAT chunks: the walk goes on to IEND.
    pos = len(PNG_SIGNATURE)
    for _ in range(MAX_PNG_CHUNKS):
        header = window.get(pos, 8)
        if len(header) < 8:
            raise _Problem("truncated PNG")
        length, kind = struct.unpack(">I4s", header)
        # PNG §5.3: a chunk length is at most 2^31 - 1.
        if length > 0x7FFFFFFF or pos + 12 + length > window.size:
            raise _Problem("PNG chunk extends past end of file")
        if kind == b"eXIf":
            if length > MAX_EXIF:
                raise _Problem("EXIF block too large")
            return window.exactly(pos + 8, length, "EXIF")
        if kind == b"IEND":
            return None
        pos += 12 + length
    raise _Problem("too many PNG chunks")


def _webp_tiff(window: _Window) -> bytes | None:
    # RIFF (WebP container spec): u32le payload size, "WEBP", then chunks of FourCC, u32le size,
    # data padded to an even length. The EXIF chunk usually follows the image data.
    riff_size = struct.unpack("<I", window.exactly(4, 4, "RIFF header"))[0]
    end = 8 + riff_size
    # libwebp refuses a RIFF size beyond the data it has: such a file is truncated.
    if end > window.size:
        raise _Problem("RIFF size exceeds file")
    pos = 12
    for _ in range(MAX_RIFF_CHUNKS):
        if pos + 8 > end:
            return None
        kind, length = struct.unpack("<4sI", window.exactly(pos, 8, "RIFF chunk"))
        if pos + 8 + length > end:
            raise _Problem("RIFF chunk extends past end of file")
        if kind == b"EXIF":
            if length > MAX_EXIF:
                raise _Problem("EXIF block too large")
            data = window.exactly(pos + 8, length, "EXIF")
            # Some writers (older ExifTool, Pillow < 7) keep JPEG's "Exif\0\0" prefix.
            return data.removeprefix(b"Exif\x00\x00")
        pos += 8 + length + (length & 1)
    raise _Problem("too many RIFF chunks")


def _heic_tiff(window: _Window) -> bytes | None:
    # HEIF (ISO/IEC 23008-12 on ISO-BMFF 14496-12): the Exif item is declared in `meta` (iinf
    # names it, iloc places it, usually inside mdat). `meta` may follow mdat, so top-level
    # headers are walked one by one and mdat is never read.
    pos = 0
    for _ in range(MAX_BOXES):
        if pos + 8 > window.size:
            raise _Problem("no meta box")
        header = window.get(pos, 16)
        kind, start, end = _box_bounds(header, 0, len(header), window.size - pos)
        if kind == b"meta":
            if end > MAX_META:
                raise _Problem("meta box too large")
            return _heic_exif_item(window, window.exactly(pos + start, end - start, "meta box"))
        pos += end
    raise _Problem("too many boxes")


def _box_bounds(buf: bytes, pos: int, limit: int, available: int) -> tuple[bytes, int, int]:
    """(type, payload start, box end) of the box at `pos`; `available` bytes may belong to it."""
    if pos + 8 > limit:
        raise _Problem("truncated box")
    size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
    start = pos + 8
    if size == 1:
        if pos + 16 > limit:
            raise _Problem("truncated box")
        size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
        start = pos + 16
    elif size == 0:  # the box runs to the end of its container
        size = available
    if size < start - pos or size > available:
        raise _Problem("box extends past end of file")
    return kind, start, pos + size


def _children(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    while pos < end:
        kind, payload, box_end = _box_bounds(buf, pos, end, end - pos)
        yield kind, payload, box_end
        pos = box_end


def _heic_exif_item(window: _Window, meta: bytes) -> bytes | None:
    boxes: dict[bytes, tuple[int, int]] = {}
    for kind, start, end in _children(meta, 4, len(meta)):
        boxes.setdefault(kind, (start, end))
    if b"iinf" not in boxes or b"iloc" not in boxes:
        raise _Problem("corrupt meta box")
    item_id = _exif_item_id(meta[slice(*boxes[b"iinf"])])
    if item_id is None:
        return None
    idat = meta[slice(*boxes[b"idat"])] if b"idat" in boxes else b""
    payload = _item_data(window, meta[slice(*boxes[b"iloc"])], item_id, idat)
    # ISO/IEC 23008-12 Annex A: the Exif item starts with a u32 offset to the TIFF header.
    if len(payload) < 4:
        raise _Problem("truncated EXIF")
    skip = 4 + struct.unpack(">I", payload[:4])[0]
    if skip >= len(payload):
        raise _Problem("truncated EXIF")
    return payload[skip:]


def _exif_item_id(iinf: bytes) -> int | None:
    cursor = _Cursor(iinf, "iinf")
    version = cursor.u8()
    cursor.skip(3)
    cursor.skip(2 if version == 0 else 4)
    for kind, start, end in _children(iinf, cursor.pos, len(iinf)):
        if kind != b"infe":
            continue
        infe = _Cursor(iinf[start:end], "infe")
        infe_version = infe.u8()
        infe.skip(3)
        if infe_version < 2:  # item_type exists from version 2 on
            continue
        item_id = infe.u16() if infe_version == 2 else infe.u32()
        infe.skip(2)  # item_protection_index
        if infe.take(4) == b"Exif":
            return item_id
    return None


def _item_data(window: _Window, iloc: bytes, wanted: int, idat: bytes) -> bytes:
    cursor = _Cursor(iloc, "iloc")
    version = cursor.u8()
    cursor.skip(3)
    if version > 2:
        raise _Problem("unsupported iloc version")
    sizes = cursor.u8()
    offset_size, length_size = sizes >> 4, sizes & 0x0F
    sizes = cursor.u8()
    base_offset_size, index_size = sizes >> 4, (sizes & 0x0F if version in (1, 2) else 0)
    item_count = cursor.u16() if version < 2 else cursor.u32()
    for _ in range(item_count):
        item_id = cursor.u16() if version < 2 else cursor.u32()
        method = cursor.u16() & 0x0F if version in (1, 2) else 0
        data_reference = cursor.u16()
        base = cursor.uint(base_offset_size)
        extents = []
        for _ in range(cursor.u16()):
            cursor.uint(index_size)
            extents.append((base + cursor.uint(offset_size), cursor.uint(length_size)))
        if item_id == wanted:
            return _read_extents(window, extents, method, data_reference, idat)
    raise _Problem("Exif item has no location")


def _read_extents(
    window: _Window, extents: list[tuple[int, int]], method: int, reference: int, idat: bytes
) -> bytes:
    # iloc construction_method 0 = file offsets, 1 = offsets into idat; data_reference_index 0 is
    # "this file" (ISO/IEC 14496-12 §8.11.3).
    if method not in (0, 1) or reference != 0:
        raise _Problem("unsupported Exif item location")
    if not extents or len(extents) > MAX_EXIF_EXTENTS:
        raise _Problem("corrupt Exif item location")
    container = window.size if method == 0 else len(idat)
    # An extent length of 0 means "to the end of the container".
    spans = [(start, length or container - start) for start, length in extents]
    if any(start < 0 or length <= 0 or start + length > container for start, length in spans):
        raise _Problem("Exif item beyond end of file")
    if sum(length for _, length in spans) > MAX_EXIF:
        raise _Problem("EXIF block too large")
    if method == 1:
        return b"".join(idat[start : start + length] for start, length in spans)
    return b"".join(window.exactly(start, length, "EXIF") for start, length in spans)


class _Cursor:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.what = what
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Problem(f"truncated {self.what}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def skip(self, n: int) -> None:
        self.take(n)

    def uint(self, n: int) -> int:
        if n not in (0, 4, 8):  # iloc field sizes are 0, 4 or 8 bytes
            raise _Problem(f"corrupt {self.what}")
        return int.from_bytes(self.take(n), "big")

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")


_FINDERS: dict[ImageFormat, Callable[[_Window], bytes | None]] = {
    ImageFormat.JPEG: _jpeg_tiff,
    ImageFormat.PNG: _png_tiff,
    ImageFormat.WEBP: _webp_tiff,
    ImageFormat.HEIC: _heic_tiff,
}


# --- the TIFF block ------------------------------------------------------------------------------


@contextmanager
def _quiet() -> Iterator[None]:
    # Pillow warns about every corrupt tag it skips; the outcome is reported as `problem` instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _load_exif(tiff: bytes) -> Image.Exif:
    if tiff[:4] == b"II*\x00":
        first_ifd = struct.unpack("<I", tiff[4:8])[0] if len(tiff) >= 8 else None
    elif tiff[:4] == b"MM\x00*":
        first_ifd = struct.unpack(">I", tiff[4:8])[0] if len(tiff) >= 8 else None
    else:
        raise _Problem("unreadable EXIF")
    if first_ifd is None or first_ifd + 2 > len(tiff):
        raise _Problem("truncated EXIF")
    exif = Image.Exif()
    with _quiet():
        exif.load(b"Exif\x00\x00" + tiff)
    return exif


def _coordinates(exif: Image.Exif) -> tuple[float, float]:
    with _quiet():
        if GPS_IFD not in exif:
            raise _Problem("no GPS IFD")
        gps = exif.get_ifd(GPS_IFD)
        lat_ref, lon_ref = gps.get(GPS_LATITUDE_REF), gps.get(GPS_LONGITUDE_REF)
        lat_dms, lon_dms = gps.get(GPS_LATITUDE), gps.get(GPS_LONGITUDE)
    if lat_dms is None or lon_dms is None:
        raise _Problem("no GPS coordinates")
    if lat_ref is None or lon_ref is None:
        raise _Problem("GPS ref missing")
    lat = _degrees(lat_dms, _ref(lat_ref, "NS"))
    lon = _degrees(lon_dms, _ref(lon_ref, "EW"))
    if abs(lat) > 90:
        raise _Problem("latitude out of range")
    if abs(lon) > 180:
        raise _Problem("longitude out of range")
    # (0, 0) is what a receiver without a fix writes ("Null Island"; DESIGN.md §3.1).
    if lat == 0 and lon == 0:
        raise _Problem("0,0 is no fix")
    return lat, lon


def _ref(value: Any, allowed: str) -> bool:
    """True for the negative hemisphere (S, W)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    ref = value.strip("\x00 ").upper() if isinstance(value, str) else ""
    if len(ref) != 1 or ref not in allowed:
        raise _Problem("GPS ref invalid")
    return ref == allowed[1]


def _degrees(dms: Any, negative: bool) -> float:
    # EXIF 2.3 GPSLatitude/GPSLongitude: three RATIONALs, degrees, minutes, seconds.
    if not isinstance(dms, tuple | list) or len(dms) != 3:
        raise _Problem("GPS value is not degrees, minutes, seconds")
    parts = []
    for part in dms:
        if isinstance(part, bool) or not isinstance(part, Real):
            raise _Problem("GPS value is not degrees, minutes, seconds")
        if isinstance(part, IFDRational) and part.denominator == 0:
            raise _Problem("zero denominator")
        number = float(part)
        if not math.isfinite(number):
            raise _Problem("GPS value not finite")
        if number < 0:
            raise _Problem("GPS value negative")
        parts.append(number)
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    return -degrees if negative else degrees


@dataclass(frozen=True, slots=True)
class _Details:
    taken_at: datetime | None = None
    orientation: int | None = None
    make: str | None = None
    model: str | None = None


def _details(exif: Image.Exif) -> _Details:
    """When and with what the photo was taken; a broken tag is just absent, never a problem."""
    with _quiet():
        make = _guarded(lambda: _text(exif.get(MAKE)))
        model = _guarded(lambda: _text(exif.get(MODEL)))
        orientation = _guarded(lambda: exif.get(ORIENTATION))
        sub = _guarded(lambda: exif.get_ifd(EXIF_IFD) if EXIF_IFD in exif else None) or {}
        stamp = _guarded(lambda: _text(sub.get(DATETIME_ORIGINAL)))
        offset = _guarded(
            lambda: _text(sub.get(OFFSET_TIME_ORIGINAL)) or _text(sub.get(OFFSET_TIME))
        )
    return _Details(
        taken_at=_taken_at(stamp, offset),
        orientation=orientation if type(orientation) is int and 1 <= orientation <= 8 else None,
        make=make,
        model=model,
    )


def _guarded[T](get: Callable[[], T]) -> T | None:
    # Pillow decodes a tag's value only when it is asked for, so a corrupt one raises here.
    try:
        return get()
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ") or None


def _taken_at(stamp: str | None, offset: str | None) -> datetime | None:
    # EXIF 2.31: DateTimeOriginal "YYYY:MM:DD HH:MM:SS" in local time; OffsetTimeOriginal "+07:00".
    match = _DATETIME.fullmatch(stamp) if stamp else None
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(group) for group in match.groups())
        taken = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    zone = _OFFSET.fullmatch(offset) if offset else None
    if zone is not None:
        sign = -1 if zone[1] == "-" else 1
        shift = timedelta(hours=int(zone[2]), minutes=int(zone[3]))
        if shift < timedelta(hours=24):
            taken = taken.replace(tzinfo=timezone(sign * shift))
    return taken
