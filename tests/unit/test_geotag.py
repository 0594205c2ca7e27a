"""The geotag reader: the shared photo corpus, few bytes read, hostile files tolerated."""

from __future__ import annotations

import io
import json
import random
import struct
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chalicelib.domain.geotag import (
    HEAD,
    MAX_READ,
    MAX_READS,
    Geotag,
    ImageFormat,
    read_geotag,
    sniff,
)

PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "photos"
MANIFEST: list[dict[str, Any]] = json.loads((PHOTOS / "manifest.json").read_text("utf-8"))["files"]
ENTRIES = {entry["file"]: entry for entry in MANIFEST}
# The manifest names containers the way Pillow does.
FORMATS = {
    "JPEG": ImageFormat.JPEG,
    "HEIF": ImageFormat.HEIC,
    "WEBP": ImageFormat.WEBP,
    "PNG": ImageFormat.PNG,
}
KIB = 1024


class FileReader:
    """A ranged reader over bytes that records every request, like S3 GET with a Range header."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]


def geotag_of(data: bytes) -> tuple[Geotag, FileReader]:
    reader = FileReader(data)
    return read_geotag(reader, len(data)), reader


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def expects_location(entry: dict[str, Any]) -> bool:
    return (
        entry["latitude"] is not None
        and entry["longitude"] is not None
        and (entry["latitude"], entry["longitude"]) != (0, 0)
    )


# --- the shared corpus ---------------------------------------------------------------------------


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_manifest_photo_gives_its_location_or_a_problem(entry: dict[str, Any]) -> None:
    data = photo(entry["file"])

    geotag, reader = geotag_of(data)

    if expects_location(entry):
        assert geotag.problem is None
        assert geotag.lat == pytest.approx(entry["latitude"], abs=1e-6)
        assert geotag.lon == pytest.approx(entry["longitude"], abs=1e-6)
    else:
        assert geotag.lat is None
        assert geotag.lon is None
        assert geotag.problem
    assert geotag.bytes_read == sum(length for _, length in reader.reads)
    assert all(offset + length <= len(data) for offset, length in reader.reads)
    assert all(length <= MAX_READ for _, length in reader.reads)


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_manifest_photo_is_sniffed_as_its_container(entry: dict[str, Any]) -> None:
    # A file Pillow cannot identify (3ef05…: FF D8 FE, no marker) has its format from its name only.
    expected = FORMATS[entry["format"]] if entry["opens_with_pillow"] else None

    head = photo(entry["file"])[:HEAD]

    assert sniff(head) == expected
    assert geotag_of(photo(entry["file"]))[0].format == expected


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_manifest_photo_gives_camera_and_capture_time(entry: dict[str, Any]) -> None:
    geotag, _ = geotag_of(photo(entry["file"]))

    taken = geotag.taken_at.strftime("%Y:%m:%d %H:%M:%S") if geotag.taken_at else None
    assert taken == entry["datetime_original"]
    assert geotag.make == entry["make"]
    assert geotag.model == entry["model"]


def test_null_island_is_no_fix() -> None:
    geotag, _ = geotag_of(photo("Samsung_GT-I9000_Galaxy_S.jpg"))

    assert (geotag.lat, geotag.lon, geotag.problem) == (None, None, "0,0 is no fix")


def test_nan_seconds_are_no_location_rather_than_zero() -> None:
    geotag, _ = geotag_of(photo("Nikon_D5000.jpg"))

    assert (geotag.lat, geotag.problem) == (None, "zero denominator")


def test_offset_time_makes_capture_time_aware() -> None:
    geotag, _ = geotag_of(photo("IMG_5195.HEIC"))

    assert geotag.taken_at is not None
    assert geotag.taken_at.utcoffset() == timedelta(hours=-5)
    assert geotag.taken_at.isoformat() == "2021-04-11T15:47:53-05:00"


def test_capture_time_without_offset_is_naive() -> None:
    geotag, _ = geotag_of(photo("DSCN0010.jpg"))

    assert geotag.taken_at is not None
    assert geotag.taken_at.tzinfo is None


def test_orientation_comes_from_ifd0() -> None:
    geotag, _ = geotag_of(photo("Samsung_GT-I9000_Galaxy_S.jpg"))

    assert geotag.orientation == 6


# --- reading little ------------------------------------------------------------------------------


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    with Image.open(PHOTOS / "DSCN0010.jpg") as source:
        exif = source.info["exif"]
    out = io.BytesIO()
    noise(3000, 2000).save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def test_five_megabyte_jpeg_is_located_from_its_first_128_kib(big_jpeg: bytes) -> None:
    dscn = ENTRIES["DSCN0010.jpg"]

    geotag, _ = geotag_of(big_jpeg)

    assert len(big_jpeg) >= 5_000_000
    assert geotag.lat == pytest.approx(dscn["latitude"], abs=1e-6)
    assert geotag.lon == pytest.approx(dscn["longitude"], abs=1e-6)
    assert geotag.bytes_read <= 128 * KIB


def app_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def test_app1_pushed_past_the_head_is_reached_by_segment_lengths() -> None:
    dscn = photo("DSCN0010.jpg")
    icc = app_segment(0xE2, b"ICC_PROFILE\x00" + bytes(65533 - 12))
    data = dscn[:2] + icc * 4 + dscn[2:]
    app1_length = struct.unpack(">H", dscn[4:6])[0] if dscn[3] == 0xE1 else None

    geotag, reader = geotag_of(data)

    assert geotag.lat == pytest.approx(ENTRIES["DSCN0010.jpg"]["latitude"], abs=1e-6)
    assert app1_length is not None
    assert geotag.bytes_read <= HEAD + app1_length + 64
    assert len(reader.reads) <= 8


def test_app1_straddling_the_head_costs_one_read_of_exactly_the_rest() -> None:
    dscn = photo("DSCN0010.jpg")
    padding = app_segment(0xE2, bytes(60_000))
    data = dscn[:2] + padding + dscn[2:]
    app1_start = 2 + len(padding)
    app1_end = app1_start + 2 + struct.unpack(">H", data[app1_start + 2 : app1_start + 4])[0]

    geotag, reader = geotag_of(data)

    assert geotag.problem is None
    assert reader.reads == [(0, HEAD), (HEAD, app1_end - HEAD)]


@pytest.mark.parametrize("name", ["IMG_5195.HEIC", "exif-at-eof.heic"])
def test_heic_is_located_from_at_most_128_kib(name: str) -> None:
    data = photo(name)

    geotag, _ = geotag_of(data)

    assert len(data) > 700_000
    assert geotag.problem is None
    assert geotag.bytes_read <= 128 * KIB


def test_heic_exif_at_end_of_file_costs_one_read_past_the_head() -> None:
    data = photo("exif-at-eof.heic")

    _, reader = geotag_of(data)

    assert len(reader.reads) == 2
    assert reader.reads[1][0] > len(data) - 4 * KIB


def test_png_with_exif_after_the_image_data_skips_the_image_data() -> None:
    data = photo("exif.png")

    geotag, reader = geotag_of(data)

    assert geotag.orientation == 1
    assert 0 < geotag.bytes_read < len(data) // 2
    assert all(length <= 26 for _, length in reader.reads[1:])


@pytest.mark.parametrize("name", ["HTC_Desire.webp", "flower.webp"])
def test_small_webp_is_read_in_one_request(name: str) -> None:
    # Both samples are smaller than the head, so the head read is the whole file.
    data = photo(name)

    geotag, reader = geotag_of(data)

    assert geotag.bytes_read == len(data)
    assert len(reader.reads) == 1


def test_webp_with_exif_after_the_image_data_skips_the_image_data() -> None:
    with Image.open(PHOTOS / "HTC_Desire.webp") as source:
        exif = source.info["exif"]
    out = io.BytesIO()
    noise(900, 700).save(out, "WEBP", quality=90, exif=exif)
    data = out.getvalue()

    geotag, _ = geotag_of(data)

    assert len(data) > 4 * HEAD
    assert geotag.lat == pytest.approx(ENTRIES["HTC_Desire.webp"]["latitude"], abs=1e-6)
    assert geotag.bytes_read <= HEAD + len(exif) + 64


# --- synthetic EXIF ------------------------------------------------------------------------------

ASCII, LONG, RATIONAL, DOUBLE = 2, 4, 5, 12
Entry = tuple[int, int, int, bytes]


def ascii_tag(tag: int, text: str) -> Entry:
    return (tag, ASCII, len(text) + 1, text.encode() + b"\x00")


def rational_tag(tag: int, *pairs: tuple[int, int]) -> Entry:
    return (tag, RATIONAL, len(pairs), b"".join(struct.pack("<II", n, d) for n, d in pairs))


def double_tag(tag: int, *values: float) -> Entry:
    return (tag, DOUBLE, len(values), b"".join(struct.pack("<d", v) for v in values))


def ifd(entries: list[Entry], at: int) -> bytes:
    """One little-endian IFD at offset `at`, its out-of-line values right after it."""
    data_at = at + 2 + 12 * len(entries) + 4
    table, data = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_at + len(data))
            data += value + b"\x00" * (len(value) & 1)
        table += struct.pack("<HHI", tag, kind, count) + field
    return table + struct.pack("<I", 0) + data


def tiff_with_gps(gps: list[Entry]) -> bytes:
    """A TIFF block: IFD0 holding only the GPS IFD pointer, then the GPS IFD."""
    gps_at = 8 + 2 + 12 + 4
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd([(0x8825, LONG, 1, struct.pack("<I", gps_at))], 8)
        + ifd(gps, gps_at)
    )


def jakarta(lat: list[tuple[int, int]] | None = None, **refs: str) -> list[Entry]:
    """Monas, Jakarta (6° 10' 31.4" S, 106° 49' 38" E), with parts replaceable."""
    return [
        ascii_tag(1, refs.get("lat_ref", "S")),
        rational_tag(2, *(lat or [(6, 1), (10, 1), (314, 10)])),
        ascii_tag(3, refs.get("lon_ref", "E")),
        rational_tag(4, (106, 1), (49, 1), (38, 1)),
    ]


def jpeg_with(tiff: bytes) -> bytes:
    return b"\xff\xd8" + app_segment(0xE1, b"Exif\x00\x00" + tiff) + b"\xff\xd9"


def test_synthetic_gps_is_decoded_with_hemisphere_signs() -> None:
    geotag, _ = geotag_of(jpeg_with(tiff_with_gps(jakarta())))

    assert geotag.problem is None
    assert geotag.lat == pytest.approx(-(6 + 10 / 60 + 31.4 / 3600))
    assert geotag.lon == pytest.approx(106 + 49 / 60 + 38 / 3600)


# --- HEIC built box by box -----------------------------------------------------------------------


def box(kind: bytes, payload: bytes, *, size: int | None = None) -> bytes:
    return struct.pack(">I4s", len(payload) + 8 if size is None else size, kind) + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def heic(
    tiff: bytes,
    *,
    iloc_version: int = 1,
    mdat_padding: int = 0,
    meta_last: bool = False,
    in_idat: bool = False,
    extent_shift: int = 0,
    mdat_size: int | None = None,
) -> bytes:
    """ftyp, meta (iinf naming item 1 "Exif", iloc placing it) and mdat holding the item."""
    item = struct.pack(">I", 6) + b"Exif\x00\x00" + tiff  # Apple's layout: offset to "MM\0*"
    ftyp = box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")
    infe = full_box(b"infe", 2, struct.pack(">HH4s", 1, 0, b"Exif") + b"\x00")
    iinf = full_box(b"iinf", 0, struct.pack(">H", 1) + infe)
    count = ">H" if iloc_version < 2 else ">I"

    def meta(offset: int) -> bytes:
        body = bytes([0x44, 0x00]) + struct.pack(count, 1) + struct.pack(count, 1)
        if iloc_version in (1, 2):
            body += struct.pack(">H", 1 if in_idat else 0)
        body += struct.pack(">HHII", 0, 1, offset, len(item))
        idat = box(b"idat", item) if in_idat else b""
        return full_box(b"meta", 0, iinf + full_box(b"iloc", iloc_version, body) + idat)

    mdat = box(b"mdat", bytes(mdat_padding) + (b"" if in_idat else item), size=mdat_size)
    meta_size = len(meta(0))
    if in_idat:
        item_at = 0
    elif meta_last:
        item_at = len(ftyp) + 8 + mdat_padding
    else:
        item_at = len(ftyp) + meta_size + 8 + mdat_padding
    parts = (
        [ftyp, mdat, meta(item_at + extent_shift)]
        if meta_last
        else [ftyp, meta(item_at + extent_shift), mdat]
    )
    return b"".join(parts)


@pytest.mark.parametrize("version", [0, 1, 2])
def test_heic_iloc_versions_locate_the_exif_item(version: int) -> None:
    geotag, _ = geotag_of(heic(tiff_with_gps(jakarta()), iloc_version=version))

    assert geotag.format is ImageFormat.HEIC
    assert geotag.problem is None
    assert geotag.lat == pytest.approx(-6.175389, abs=1e-6)


def test_heic_exif_item_in_idat_is_located() -> None:
    geotag, _ = geotag_of(heic(tiff_with_gps(jakarta()), in_idat=True))

    assert geotag.problem is None


def test_heic_meta_after_mdat_is_found_without_reading_mdat() -> None:
    data = heic(tiff_with_gps(jakarta()), mdat_padding=3_000_000, meta_last=True)

    geotag, reader = geotag_of(data)

    assert geotag.problem is None
    assert geotag.bytes_read <= HEAD + 1024
    assert len(reader.reads) <= 4


# --- hostile files -------------------------------------------------------------------------------


def png(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(struct.pack(">I4s", len(data), kind) + data + bytes(4) for kind, data in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


def riff_with_length(data: bytes, riff_size: int) -> bytes:
    return data[:4] + struct.pack("<I", riff_size) + data[8:]


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "three random bytes": random.Random(3).randbytes(3),
    "jpeg soi then garbage": b"\xff\xd8\xff" + random.Random(4).randbytes(5000),
    "app1 longer than the file": b"\xff\xd8\xff\xe1\xff\xf0Exif\x00\x00II*\x00\x08\x00\x00\x00",
    "ifd offset beyond the end": jpeg_with(b"II*\x00" + struct.pack("<I", 100_000)),
    "not a tiff header": jpeg_with(b"MM\x13*\x00\x00\x00\x08" + bytes(20)),
    "zero denominator": jpeg_with(tiff_with_gps(jakarta([(6, 1), (10, 0), (0, 1)]))),
    "latitude 95": jpeg_with(tiff_with_gps(jakarta([(95, 1), (0, 1), (0, 1)]))),
    "missing latitude ref": jpeg_with(tiff_with_gps(jakarta()[1:])),
    "ref not a hemisphere": jpeg_with(tiff_with_gps(jakarta(lat_ref="X"))),
    "nan rationals": jpeg_with(tiff_with_gps(jakarta([(0, 0), (0, 0), (0, 0)]))),
    "nan doubles": jpeg_with(
        tiff_with_gps([*jakarta()[:1], double_tag(2, float("nan"), 0, 0), *jakarta()[2:]])
    ),
    "inf doubles": jpeg_with(
        tiff_with_gps([*jakarta()[:1], double_tag(2, float("inf"), 0, 0), *jakarta()[2:]])
    ),
    "latitude not a triple": jpeg_with(
        tiff_with_gps([*jakarta()[:1], rational_tag(2, (6, 1), (1, 1)), *jakarta()[2:]])
    ),
    "heic extent beyond eof": heic(tiff_with_gps(jakarta()), extent_shift=10_000),
    "heic box size 0x7fffffff": heic(
        tiff_with_gps(jakarta()), meta_last=True, mdat_size=0x7FFFFFFF
    ),
    "heic without meta": box(b"ftyp", b"heic" + bytes(4) + b"mif1") + box(b"mdat", bytes(100)),
    "png chunk length 0xffffffff": png((b"IHDR", bytes(13)))
    + struct.pack(">I4s", 0xFFFFFFFF, b"IDAT"),
    "png without iend": png((b"IHDR", bytes(13))),
    "png 50,000 tiny chunks": png((b"IHDR", bytes(13)), *[(b"tEXt", b"")] * 50_000, (b"IEND", b"")),
    "webp riff size lying": riff_with_length(photo("HTC_Desire.webp"), 0xFFFFFFF0),
    "webp exif chunk past the riff": riff_with_length(photo("HTC_Desire.webp"), 45_000),
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_file_gives_a_problem_not_an_exception(data: bytes) -> None:
    geotag, reader = geotag_of(data)

    assert geotag.problem
    assert (geotag.lat, geotag.lon) == (None, None)
    assert len(reader.reads) <= MAX_READS
    assert all(offset + length <= len(data) for offset, length in reader.reads)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("empty", "not an image"),
        ("app1 longer than the file", "truncated EXIF"),
        ("ifd offset beyond the end", "truncated EXIF"),
        ("zero denominator", "zero denominator"),
        ("latitude 95", "latitude out of range"),
        ("missing latitude ref", "GPS ref missing"),
        ("nan rationals", "zero denominator"),
        ("nan doubles", "GPS value not finite"),
        ("heic extent beyond eof", "Exif item beyond end of file"),
        ("heic box size 0x7fffffff", "box extends past end of file"),
        ("png chunk length 0xffffffff", "PNG chunk extends past end of file"),
        ("png 50,000 tiny chunks", "too many reads"),
        ("webp riff size lying", "RIFF size exceeds file"),
    ],
)
def test_hostile_file_problem_names_the_fault(name: str, problem: str) -> None:
    geotag, _ = geotag_of(HOSTILE[name])

    assert geotag.problem == problem


@pytest.mark.parametrize("seed", range(50))
def test_randomly_corrupted_photo_never_raises(seed: int) -> None:
    rng = random.Random(seed)
    name = rng.choice(["DSCN0010.jpg", "IMG_5195.HEIC", "HTC_Desire.webp", "exif.png"])
    data = bytearray(photo(name)[:HEAD])
    for _ in range(20):
        data[rng.randrange(len(data) if rng.random() < 0.3 else 4096)] = rng.randrange(256)

    geotag, _ = geotag_of(bytes(data))

    assert geotag.problem is None or (geotag.lat, geotag.lon) == (None, None)


def test_tiny_chunks_past_the_head_stop_at_the_read_budget() -> None:
    geotag, reader = geotag_of(HOSTILE["png 50,000 tiny chunks"])

    assert geotag.problem == "too many reads"
    assert len(reader.reads) == MAX_READS


def test_exif_block_bigger_than_the_cap_is_refused_before_it_is_read() -> None:
    data = png((b"IHDR", bytes(13)), (b"eXIf", bytes(2 * 1024 * 1024)), (b"IEND", b""))

    geotag, reader = geotag_of(data)

    assert geotag.problem == "EXIF block too large"
    assert reader.reads == [(0, HEAD)]


# --- the reader's own failures -------------------------------------------------------------------


def test_reader_error_propagates() -> None:
    def unavailable(offset: int, length: int) -> bytes:
        raise OSError("S3 read timed out")

    with pytest.raises(OSError, match="timed out"):
        read_geotag(unavailable, 161_713)


def test_reader_error_after_the_head_propagates() -> None:
    data = photo("exif-at-eof.heic")

    def head_only(offset: int, length: int) -> bytes:
        if offset >= HEAD:
            raise OSError("connection reset")
        return data[offset : offset + length]

    with pytest.raises(OSError, match="connection reset"):
        read_geotag(head_only, len(data))
