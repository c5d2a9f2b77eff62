"""anyascii's tables as one file in the bundle.

anyascii (the search's transliteration) keeps one small, already deflated table per block of
256 code points: 642 files, a quarter of a megabyte of bytes but some 2.5 MB of disk blocks
in an unpacked bundle. The build packs them, stored as they are, into one zip
(`pack`); a runtime hook (`rthook_anyascii.py`) points anyascii at it (`install`), opened
on the first character that needs a table. Standard library only: build.spec imports it.
"""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Callable
from pathlib import Path

ZIP_NAME = "anyascii_data.zip"


def data_folder() -> Path:
    """anyascii's own table folder, in the environment the build runs in."""
    spec = importlib.util.find_spec("anyascii")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("anyascii is not installed where the bundle is built")
    return Path(next(iter(spec.submodule_search_locations))) / "_data"


def pack(zip_path: Path, folder: Path | None = None) -> int:
    """Every table of `folder` (anyascii's) into `zip_path`, stored; how many."""
    folder = folder or data_folder()
    tables = sorted(p for p in folder.iterdir()
                    if p.is_file() and not p.name.startswith(("_", ".")))
    if not tables:
        raise RuntimeError(f"no anyascii tables in {folder}")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as packed:
        for table in tables:
            packed.write(table, table.name)
    return len(tables)


def reader(zip_path: str | Path) -> Callable[[str, str], bytes]:
    """anyascii's `read_binary(package, resource)` over the packed tables; the zip opens on
    first use. A table that is not there raises FileNotFoundError, as anyascii expects."""
    opened: list[zipfile.ZipFile] = []

    def read_binary(_package: str, resource: str) -> bytes:
        if not opened:
            opened.append(zipfile.ZipFile(zip_path))
        try:
            return opened[0].read(resource)
        except KeyError:
            raise FileNotFoundError(resource) from None

    return read_binary


def install(zip_path: str | Path) -> None:
    """Make anyascii read its tables from `zip_path` (the bundle's runtime hook)."""
    import anyascii

    anyascii.read_binary = reader(zip_path)
