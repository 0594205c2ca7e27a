"""How many bytes and ranged reads the geotag reader needs per photo, and how long it takes.

Run: .venv/bin/python -m bench.geotag_bytes
"""

from __future__ import annotations

import io
import json
import random
import time
from pathlib import Path

from PIL import Image

from chalicelib.domain.geotag import Geotag, read_geotag

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"
RUNS = 50


class CountingReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads += 1
        return self.data[offset : offset + length]


def big_jpeg() -> bytes:
    """A 3000x2000 noise JPEG (about 7 MB) carrying DSCN0010.jpg's GPS EXIF."""
    with Image.open(PHOTOS / "DSCN0010.jpg") as source:
        exif = source.info["exif"]
    pixels = random.Random(1).randbytes(3000 * 2000 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (3000, 2000), pixels).save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def measure(data: bytes) -> tuple[Geotag, int, float]:
    reader = CountingReader(data)
    geotag = read_geotag(reader, len(data))
    started = time.perf_counter()
    for _ in range(RUNS):
        read_geotag(CountingReader(data), len(data))
    return geotag, reader.reads, (time.perf_counter() - started) / RUNS


def main() -> None:
    manifest = json.loads((PHOTOS / "manifest.json").read_text("utf-8"))["files"]
    samples = [(entry["file"], (PHOTOS / entry["file"]).read_bytes()) for entry in manifest]
    samples.append(("synthetic 3000x2000 JPEG + DSCN0010 EXIF", big_jpeg()))
    print(
        f"{'file':<52} {'format':<6} {'size':>9} {'read':>7} {'%':>6} {'reads':>5} "
        f"{'ms':>6}  result"
    )
    for name, data in samples:
        geotag, reads, seconds = measure(data)
        share = 100 * geotag.bytes_read / len(data) if data else 0.0
        result = f"{geotag.lat:.6f},{geotag.lon:.6f}" if geotag.lat is not None else geotag.problem
        print(
            f"{name:<52} {geotag.format or '-':<6} {len(data):>9} {geotag.bytes_read:>7} "
            f"{share:>5.1f}% {reads:>5} {seconds * 1000:>6.3f}  {result}"
        )


if __name__ == "__main__":
    main()
