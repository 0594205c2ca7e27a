"""Refuse a Lambda zip that would import on this machine but fail on Lambda.

Chalice picks wheels for the runtime of the Python that runs it; when it cannot find one it
builds the package from source here (a linux_x86_64 wheel that may need this machine's glibc)
or leaves it out with a warning. Lambda's python3.13 runs on Amazon Linux 2023: glibc 2.34,
x86_64, CPython 3.13.
"""

from __future__ import annotations

import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

RUNTIME_GLIBC = (2, 34)
UNZIPPED_LIMIT = 250 * 1024 * 1024
ABI = "cpython-313-x86_64-linux-gnu"
GLIBC = re.compile(rb"GLIBC_(\d+)\.(\d+)")
CPYTHON_EXT = re.compile(r"\.(cpython-[^.]+)\.so$")
CHALICE_WARNINGS = ("could not install", "following dependencies", "could not be installed")


@dataclass
class PackageReport:
    zip_bytes: int = 0
    unzipped_bytes: int = 0
    extensions: int = 0
    max_glibc: tuple[int, int] = (0, 0)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [
            f"zip {self.zip_bytes / 2**20:.1f} MiB, unzipped {self.unzipped_bytes / 2**20:.1f} MiB "
            f"(Lambda's limit {UNZIPPED_LIMIT / 2**20:.0f} MiB), {self.extensions} compiled "
            f"extensions, newest glibc symbol {self.max_glibc[0]}.{self.max_glibc[1]} "
            f"(runtime {RUNTIME_GLIBC[0]}.{RUNTIME_GLIBC[1]})",
        ]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        lines.append("package check: " + ("ok" if self.ok else "FAILED"))
        return "\n".join(lines)


def _wheel_tags(text: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def check_package(zip_path: Path, chalice_log: str = "") -> PackageReport:
    report = PackageReport(zip_bytes=zip_path.stat().st_size)
    for line in chalice_log.splitlines():
        if any(w in line.lower() for w in CHALICE_WARNINGS):
            report.problems.append(f"chalice: {line.strip()}")
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            report.unzipped_bytes += info.file_size
            name = info.filename
            if name.endswith(".dist-info/WHEEL"):
                for tag in _wheel_tags(archive.read(info).decode("utf-8", "replace")):
                    _python, abi, platform = tag.split("-", 2)
                    if platform != "any" and not (
                        platform.startswith("manylinux") and platform.endswith("x86_64")
                    ):
                        report.problems.append(
                            f"{name}: wheel tag {tag} is not a manylinux x86_64 wheel "
                            "(built on this machine?)"
                        )
                    if abi not in ("none", "abi3", "cp313"):
                        report.problems.append(f"{name}: wheel tag {tag} is for another ABI")
            if ".so" in Path(name).name:
                report.extensions += 1
                match = CPYTHON_EXT.search(name)
                if match and match.group(1) != ABI:
                    report.problems.append(f"{name}: built for {match.group(1)}, not {ABI}")
                data = archive.read(info)
                if data[:4] != b"\x7fELF":
                    continue
                versions = [(int(a), int(b)) for a, b in GLIBC.findall(data)]
                if versions:
                    newest = max(versions)
                    report.max_glibc = max(report.max_glibc, newest)
                    if newest > RUNTIME_GLIBC:
                        report.problems.append(
                            f"{name}: needs glibc {newest[0]}.{newest[1]}, the runtime has "
                            f"{RUNTIME_GLIBC[0]}.{RUNTIME_GLIBC[1]}"
                        )
    if report.unzipped_bytes > UNZIPPED_LIMIT:
        report.problems.append(f"unzipped size {report.unzipped_bytes} exceeds Lambda's limit")
    return report


if __name__ == "__main__":
    result = check_package(
        Path(sys.argv[1]), Path(sys.argv[2]).read_text() if len(sys.argv) > 2 else ""
    )
    print(result.summary())
    raise SystemExit(0 if result.ok else 1)
