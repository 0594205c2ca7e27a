"""public_copies: the photo anyone may see is upright, shrunk and carries no metadata at all."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile
from pillow_heif import register_heif_opener

from chalicelib.domain.imaging import LONG_SIDE, THUMB_SIDE, NotAnImage, public_copies
from tests.photos import jpeg

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos"
GAMBIR = (-6.1754, 106.8272)
RED = (255, 0, 0)
WHITE = (255, 255, 255)

register_heif_opener()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    for key in ("exif", "icc_profile", "xmp"):
        assert key not in image.info, key


def carries_metadata(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return bool(
        image.getexif()
        or image.info.get("exif")
        or image.info.get("icc_profile")
        or image.info.get("xmp")
    )


def flat_jpeg(size: tuple[int, int], **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, "JPEG", quality=85, **save)
    return out.getvalue()


def marked_jpeg(orientation: int) -> bytes:
    """400x200 white, stored with a red block in the top-left corner, and an Orientation tag."""
    image = Image.new("RGB", (400, 200), WHITE)
    image.paste(RED, (0, 0, 100, 50))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def is_red(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR declares width x height pixels (8-bit RGB), with a valid CRC."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


# --- metadata -------------------------------------------------------------------------------


def test_public_copy_of_a_geotagged_jpeg_has_no_exif() -> None:
    original = jpeg(lat=GAMBIR[0], lon=GAMBIR[1], size=(320, 240))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    copies = public_copies(original)

    assert_no_metadata(copies.full)
    assert_no_metadata(copies.thumbnail)


def test_public_copy_of_a_jpeg_with_an_icc_profile_has_no_profile() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = flat_jpeg((300, 200), icc_profile=icc)
    assert Image.open(io.BytesIO(original)).info.get("icc_profile") == icc

    copies = public_copies(original)

    assert_no_metadata(copies.full)
    assert_no_metadata(copies.thumbnail)


def test_public_copy_of_a_jpeg_drops_its_comment() -> None:
    # The module promises only pixels are re-encoded; a COM segment is metadata too (often the
    # owner's name or the editing software). Pillow's JPEG encoder copies im.info["comment"].
    original = flat_jpeg((300, 200), comment=b"Foto milik Budi Santoso, 0812-3456-7890")
    assert Image.open(io.BytesIO(original)).info.get("comment")

    copies = public_copies(original)

    assert "comment" not in opened(copies.full).info
    assert "comment" not in opened(copies.thumbnail).info


@pytest.mark.parametrize(
    "name",
    [
        "IMG_5195.HEIC",
        "exif-at-eof.heic",
        "HTC_Desire.webp",
        "flower.webp",
        "exif.png",
        "Apple_iPhone_4.jpg",
        "no_exif.jpg",  # XMP only
    ],
)
def test_public_copy_of_a_real_sample_has_no_metadata(name: str) -> None:
    original = (PHOTOS / name).read_bytes()
    assert carries_metadata(original)

    copies = public_copies(original)

    assert_no_metadata(copies.full)
    assert_no_metadata(copies.thumbnail)


def test_public_copy_of_the_iphone_heic_is_a_downsized_jpeg() -> None:
    original = (PHOTOS / "IMG_5195.HEIC").read_bytes()

    copies = public_copies(original)

    full, thumb = opened(copies.full), opened(copies.thumbnail)
    assert max(full.size) == LONG_SIDE
    assert max(thumb.size) <= THUMB_SIDE
    # 2566 x 3313 stays portrait.
    assert full.height > full.width


# --- orientation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "size", "red_corner"),
    [
        pytest.param(1, (400, 200), "top-left", id="1-as-stored"),
        pytest.param(3, (400, 200), "bottom-right", id="3-rotate-180"),
        pytest.param(6, (200, 400), "top-right", id="6-rotate-90-cw"),
        pytest.param(8, (200, 400), "bottom-left", id="8-rotate-90-ccw"),
    ],
)
def test_orientation_is_applied_to_the_public_copy(
    orientation: int, size: tuple[int, int], red_corner: str
) -> None:
    original = marked_jpeg(orientation)

    copies = public_copies(original)

    image = opened(copies.full).convert("RGB")
    assert image.size == size
    w, h = image.size
    corners = {
        "top-left": (10, 10),
        "top-right": (w - 11, 10),
        "bottom-left": (10, h - 11),
        "bottom-right": (w - 11, h - 11),
    }
    red = {corner for corner, xy in corners.items() if is_red(image.getpixel(xy))}
    assert red == {red_corner}


@pytest.mark.parametrize("orientation", [6, 8])
def test_orientation_6_and_8_swap_width_and_height_of_a_phone_jpeg(orientation: int) -> None:
    original = jpeg(size=(160, 90), orientation=orientation)

    copies = public_copies(original)

    assert opened(copies.full).size == (90, 160)
    assert opened(copies.thumbnail).size == (90, 160)


# --- size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(4000, 3000), (1500, 5000), (2000, 2000)])
def test_large_photo_is_shrunk_to_the_long_side_and_a_thumbnail(size: tuple[int, int]) -> None:
    original = flat_jpeg(size)

    copies = public_copies(original)

    full, thumb = opened(copies.full), opened(copies.thumbnail)
    assert max(full.size) == LONG_SIDE
    assert max(thumb.size) == THUMB_SIDE
    # The aspect ratio is kept (to a pixel of rounding).
    assert abs(full.width / full.height - size[0] / size[1]) < 0.01
    assert abs(thumb.width / thumb.height - size[0] / size[1]) < 0.02


def test_small_photo_is_not_enlarged() -> None:
    original = flat_jpeg((200, 150))

    copies = public_copies(original)

    assert opened(copies.full).size == (200, 150)
    assert opened(copies.thumbnail).size == (200, 150)


def test_photo_between_thumbnail_and_long_side_keeps_its_size_and_gets_a_thumbnail() -> None:
    original = flat_jpeg((1024, 768))

    copies = public_copies(original)

    assert opened(copies.full).size == (1024, 768)
    assert opened(copies.thumbnail).size == (320, 240)


# --- not an image ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"this is not a photo at all" * 100, id="text"),
        pytest.param(bytes(range(256)) * 64, id="binary"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 500, id="jpeg-magic-then-zeros"),
    ],
)
def test_garbage_bytes_are_not_an_image(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        public_copies(data)


def test_truncated_real_jpeg_is_not_an_image() -> None:
    # 613 bytes whose header declares 93 x 25093 pixels; the image data is cut off.
    original = (PHOTOS / "ImageTestSuite_46f5d9c1b0fe352353688f736e5617b6.jpg").read_bytes()

    with pytest.raises(NotAnImage):
        public_copies(original)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(100_000, 100_000, id="10-gigapixels"),
        pytest.param(10_000, 10_000, id="100-megapixels"),
        pytest.param(9_000, 9_000, id="81-megapixels"),
    ],
)
def test_png_declaring_too_many_pixels_is_refused_without_decoding(
    width: int, height: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = png_declaring(width, height)
    assert len(bomb) < 200
    decoded: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    with pytest.raises(NotAnImage):
        public_copies(bomb)

    assert decoded == []


def test_image_just_under_the_pixel_limit_is_not_refused_for_its_size() -> None:
    # 7000 x 8000 = 56 MP, under the 60 MP cap.
    original = flat_jpeg((7000, 8000))

    copies = public_copies(original)

    assert opened(copies.full).size == (1400, 1600)


def test_reported_width_and_height_are_those_of_the_public_copy() -> None:
    # PublicCopies.width/height sit next to `full`; today they are the decoded image's size,
    # which is the original's (2566 x 3313 for the HEIC) or the JPEG draft's (1750 x 2000 for a
    # 7000 x 8000 JPEG): neither the original nor the public copy.
    original = flat_jpeg((7000, 8000))

    copies = public_copies(original)

    assert (copies.width, copies.height) == opened(copies.full).size
