"""The Linux bundle's ICU data, less what Qt never reads (build.spec; tested by
tests/bundle/test_icu_data.py).

The PySide6 wheels on Linux carry ICU, and QtCore links to it; a third of the bundle was
its data library, libicudata.so.73 (31 MB): one ICU "common data" package (a header, a
sorted table of item names and offsets, then the items) exported as the symbol
`icudt73_dat`. Qt reads of it the collation rules (QCollator: the file dialog's sorting),
the locale-aware case mappings, the normalisation and time zone data and the converters'
alias table; it formats numbers, dates, currencies and names of languages and countries
from its own CLDR tables, never ICU's. QtCore is the one Qt library that calls ICU (`nm -D`:
ucol_*, ucal_*, ucnv_*, u_strToLower/Upper), so break iterators, character names, StringPrep
and the spoof checker's data go too, with each locale's own formats and the time zone names
in other languages than English (root's stay: what ICU falls back to). `trim` drops the
items in UNUSED and the bundle gets a library with the smaller package under the same
symbol, assembled with binutils (which PyInstaller needs on Linux anyway). Standard
library only, like prune.py.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

#: What the bundle leaves out of ICU's data, by item name (without the "icudt73l/" folder),
#: each with why nothing of Qt's reads it.
UNUSED: dict[str, str] = {
    r"curr/.*": "currency names and symbols: QLocale has its own CLDR tables",
    r"lang/.*": "names of languages: QLocale::languageToString is Qt's own",
    r"region/.*": "names of countries: QLocale::territoryToString is Qt's own",
    r"unit/.*": "names of measurement units: Qt formats no units",
    r"rbnf/.*": "spelled-out numbers (ICU's RuleBasedNumberFormat): Qt has none",
    r"translit/.*": "ICU's transliterators: the search transliterates with anyascii",
    r"[^/]*\.cnv": "legacy code pages (Shift-JIS, EBCDIC...): NeedleDesk reads and writes "
                   "UTF-8 only, which ICU converts without tables",
    # Made room for the clinic server's driver (psycopg with its libpq and OpenSSL): 9.9 MB.
    r"brkitr/.*": "break iterators and their word dictionaries (Chinese, Thai, Khmer...): "
                  "Qt calls no ICU break iterator (ubrk_*); it breaks text with its own tables",
    r"zone/(?!(?:root|en|pool)\.res$).*": "time zone names in languages other than English: "
                                          "NeedleDesk shows no zone names (QTimeZone's "
                                          "displayName, their one reader, falls back to root's)",
    r"(?!res_index\.)[a-z]{2,3}(?:_[A-Za-z0-9]+)*\.res": "each locale's own formats (dates, "
                                                         "numbers): Qt formats with its CLDR "
                                                         "tables; ucal_open falls back to root",
    r"unames\.icu": "Unicode character names (u_charName): Qt asks for none",
    r"confusables\.cfu": "the spoof checker's data (uspoof_*): Qt calls none",
    r"[^/]*\.spp": "StringPrep profiles (usprep_*: IDN, LDAP, XMPP): Qt calls none",
}
_UNUSED = re.compile("|".join(f"(?:{pattern})" for pattern in UNUSED))

SYMBOL = re.compile(rb"^icudt\d+_dat$")


def unused_item(name: str) -> bool:
    """An item of ICU's data the bundle leaves out; `name` with or without its folder."""
    return bool(_UNUSED.fullmatch(name.split("/", 1)[1] if name.startswith("icudt")
                                  else name))


def items(package: bytes) -> tuple[bytes, dict[str, bytes]]:
    """A common data package's header and its items by name, in order."""
    header_size, magic = struct.unpack_from("<H2s", package, 0)
    if magic != b"\xda\x27" or package[12:16] != b"CmnD" or package[8] != 0:
        raise ValueError("not a little-endian ICU common data package")
    count, = struct.unpack_from("<I", package, header_size)
    toc = [struct.unpack_from("<II", package, header_size + 4 + 8 * i) for i in range(count)]
    found = {}
    for i, (name_at, data_at) in enumerate(toc):
        start = header_size + name_at
        name = package[start:package.index(b"\0", start)].decode("ascii")
        end = toc[i + 1][1] if i + 1 < count else len(package) - header_size
        found[name] = package[header_size + data_at:header_size + end]
    return package[:header_size], found


def package(header: bytes, contents: dict[str, bytes]) -> bytes:
    """A common data package of `contents` (names sorted, as ICU looks them up by binary
    search; every item at a multiple of 16 bytes; padded with 0xAA, as ICU's icupkg pads)."""
    if len(header) % 16:
        raise ValueError("the header's size must be a multiple of 16")
    names = sorted(contents, key=lambda name: name.encode("ascii"))
    table_size = 4 + 8 * len(names)
    name_at, name_bytes = [], b""
    for name in names:
        name_at.append(table_size + len(name_bytes))
        name_bytes += name.encode("ascii") + b"\0"
    offset = table_size + len(name_bytes)
    offset += -offset % 16
    body, data_at = b"", []
    for name in names:
        data_at.append(offset + len(body))
        body += contents[name] + b"\xaa" * (-len(contents[name]) % 16)
    table = struct.pack("<I", len(names)) + b"".join(
        struct.pack("<II", n, d) for n, d in zip(name_at, data_at, strict=True))
    return header + table + name_bytes + b"\xaa" * (-(table_size + len(name_bytes)) % 16) + body


def trim(data: bytes, unused: Callable[[str], bool] = unused_item) -> bytes:
    """The package without its unused items."""
    header, contents = items(data)
    return package(header, {name: item for name, item in contents.items()
                            if not unused(name)})


def exported_package(library: str) -> tuple[str, bytes]:
    """The name and bytes of the package a libicudata library exports."""
    symbols = subprocess.run(["readelf", "-W", "--dyn-syms", library], capture_output=True,
                             text=True, check=True).stdout
    match = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+"
                      r"\S+\s+\d+\s+(icudt\d+_dat)\s*$", symbols, re.MULTILINE)
    if not match:
        raise ValueError(f"{library} exports no ICU data")
    address, size = int(match.group(1), 16), int(match.group(2), 0)
    sections = subprocess.run(["readelf", "-W", "-S", library], capture_output=True,
                              text=True, check=True).stdout
    for line in sections.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[2] == "PROGBITS":
            start, at, length = (int(fields[i], 16) for i in (3, 4, 5))
            if start <= address < start + length:
                with open(library, "rb") as file:
                    file.seek(at + address - start)
                    return match.group(3), file.read(size)
    raise ValueError(f"{library}: the ICU data is in no section")


def data_library(name: str, data: bytes, soname: str, target: Path) -> None:
    """A shared library exporting `data` as the read-only, 16-byte-aligned object `name`,
    as ICU's own libicudata does: assembled with binutils' as and ld, no compiler."""
    with tempfile.TemporaryDirectory() as work:
        raw, source, obj = (Path(work) / f"icudata.{ext}" for ext in ("bin", "s", "o"))
        raw.write_bytes(data)
        source.write_text(
            '.section .rodata\n.balign 16\n'
            f'.globl {name}\n.type {name}, @object\n.size {name}, {len(data)}\n'
            f'{name}:\n.incbin "{raw}"\n.section .note.GNU-stack,"",@progbits\n',
            encoding="ascii")
        subprocess.run(["as", "--64", "-o", str(obj), str(source)], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname, "-o", str(target), str(obj)],
                       check=True)


def shrink(library: str, target: Path) -> int:
    """`target`: `library` (an x86-64 Linux libicudata) with its unused items left out.
    Returns the bytes saved."""
    name, data = exported_package(library)
    data_library(name, trim(data), os.path.basename(library), target)
    return os.path.getsize(library) - os.path.getsize(target)


def shrink_in(binaries: list[tuple[str, str, str]], folder: Path) -> None:
    """Linux x86-64 with binutils: the libicudata entries of `binaries` (PyInstaller TOC
    entries) swapped for trimmed copies made in `folder`; anything else as it was."""
    if not all(shutil.which(tool) for tool in ("as", "ld", "readelf")):
        print("NeedleDesk: ICU data kept whole (binutils' as, ld or readelf missing)")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for i, (where, src, kind) in enumerate(binaries):
        base = os.path.basename(where)
        if not re.fullmatch(r"libicudata\.so\.\d+", base):
            continue
        target = folder / base
        try:
            saved = shrink(src, target)
        except (OSError, ValueError, subprocess.CalledProcessError) as exc:
            print(f"NeedleDesk: ICU data kept whole ({exc})")
            continue
        binaries[i] = (where, str(target), kind)
        print(f"NeedleDesk: {base} without the ICU data Qt never reads "
              f"({saved / 1e6:.0f} MB less)")
