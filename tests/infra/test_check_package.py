"""The packaging check refuses what would break on Lambda and passes a clean package."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from infra.tools.check_package import check_package

ELF = b"\x7fELF" + b"\x00" * 60


def build_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


CLEAN = {
    "app.py": b"print('hi')",
    "numpy-2.5.5.dist-info/WHEEL": b"Wheel-Version: 1.0\nTag: cp313-cp313-manylinux_2_27_x86_64\n",
    "numpy/core/_x.cpython-313-x86_64-linux-gnu.so": ELF + b"GLIBC_2.17\x00GLIBC_2.28\x00",
    "jwt-2.0.dist-info/WHEEL": b"Tag: py3-none-any\n",
}


def test_clean_package_passes_and_reports_its_sizes(tmp_path: Path) -> None:
    report = check_package(build_zip(tmp_path, CLEAN))

    assert report.ok, report.problems
    assert report.extensions == 1
    assert report.max_glibc == (2, 28)
    assert report.unzipped_bytes > 0


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"pkg-1.dist-info/WHEEL": b"Tag: cp313-cp313-linux_x86_64\n"}, "not a manylinux"),
        ({"pkg-1.dist-info/WHEEL": b"Tag: cp312-cp312-manylinux2014_x86_64\n"}, "another ABI"),
        ({"pkg/_c.cpython-312-x86_64-linux-gnu.so": ELF}, "not cpython-313"),
        ({"pkg/_c.cpython-313-x86_64-linux-gnu.so": ELF + b"GLIBC_2.38\x00"}, "needs glibc 2.38"),
    ],
    ids=["built-here", "other-abi-wheel", "other-abi-extension", "newer-glibc"],
)
def test_package_that_would_fail_on_lambda_is_refused(
    tmp_path: Path, extra: dict[str, bytes], problem: str
) -> None:
    report = check_package(build_zip(tmp_path, {**CLEAN, **extra}))

    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


def test_dependency_chalice_could_not_install_is_refused(tmp_path: Path) -> None:
    log = "Creating deployment package.\nCould not install dependencies:\nshapely==2.2.0\n"

    report = check_package(build_zip(tmp_path, CLEAN), log)

    assert not report.ok
    assert any("Could not install" in p for p in report.problems)
