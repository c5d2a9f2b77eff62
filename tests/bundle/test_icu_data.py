"""The Linux bundle's trimmed ICU data (needledesk/_build/icu_data.py, called by build.spec):
which items go, that the package is rewritten as ICU reads it, and, where the PySide6 wheel
carries ICU and binutils are installed, that the real library shrinks with every kept item
unchanged."""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from needledesk._build import icu_data as icu

HEADER = struct.pack("<H2sHH4B4s4B4B", 32, b"\xda\x27", 20, 0, 0, 0, 2, 0, b"CmnD",
                     1, 0, 0, 0, 3, 0, 0, 0).ljust(32, b"\0")


def made_up(contents: dict[str, bytes]) -> bytes:
    return icu.package(HEADER, contents)


@pytest.mark.parametrize("name", [
    "icudt73l/curr/de.res", "icudt73l/lang/fr.res", "icudt73l/region/en.res",
    "icudt73l/unit/ja.res", "icudt73l/rbnf/ru.res", "icudt73l/translit/Hira_Kana.res",
    "icudt73l/ibm-943_P15A-2003.cnv", "icudt73l/gb18030.cnv",
    "icudt73l/brkitr/line.brk", "icudt73l/brkitr/cjdict.dict", "icudt73l/zone/de.res",
    "icudt73l/zone/ff_Adlm.res", "icudt73l/en_GB.res", "icudt73l/de.res",
    "icudt73l/zh_Hant_TW.res", "icudt73l/ars.res", "icudt73l/unames.icu",
    "icudt73l/confusables.cfu", "icudt73l/rfc3491.spp",
])
def test_what_qt_never_reads_goes(name):
    assert icu.unused_item(name)
    assert icu.unused_item(name.split("/", 1)[1])


@pytest.mark.parametrize("name", [
    "icudt73l/coll/ucadata.res", "icudt73l/coll/sv.res", "icudt73l/ucadata.icu",
    "icudt73l/zone/en.res", "icudt73l/zone/root.res", "icudt73l/zone/pool.res",
    "icudt73l/zoneinfo64.res", "icudt73l/metaZones.res", "icudt73l/root.res",
    "icudt73l/cnvalias.icu", "icudt73l/uts46.nrm", "icudt73l/nfkc.nrm", "icudt73l/pool.res",
    "icudt73l/currencyNumericCodes.res", "icudt73l/res_index.res",
    "icudt73l/supplementalData.res", "icudt73l/likelySubtags.res", "icudt73l/coll/zh.res",
    "icudt73l/timezoneTypes.res", "icudt73l/windowsZones.res",
])
def test_what_qt_reads_stays(name):
    assert not icu.unused_item(name)


def test_a_package_reads_back_as_written():
    contents = {"icudt73l/zz.res": b"z" * 5, "icudt73l/coll/root.res": b"c" * 40,
                "icudt73l/a.cnv": b"a" * 16}
    data = made_up(contents)
    header, found = icu.items(data)
    assert header == HEADER
    assert list(found) == sorted(contents, key=str.encode)    # ICU's binary search needs it
    for name, item in contents.items():
        assert found[name].rstrip(b"\xaa") == item
    count, = struct.unpack_from("<I", data, 32)
    offsets = [struct.unpack_from("<II", data, 36 + 8 * i)[1] for i in range(count)]
    assert all((32 + offset) % 16 == 0 for offset in offsets)
    assert icu.package(*icu.items(data)) == data


def test_trim_keeps_the_rest_byte_for_byte():
    contents = {"icudt73l/curr/de.res": b"c" * 100, "icudt73l/de.res": b"d" * 48,
                "icudt73l/coll/de.res": b"k" * 32, "icudt73l/x.cnv": b"x" * 64,
                "icudt73l/zoneinfo64.res": b"z" * 48}
    _, found = icu.items(icu.trim(made_up(contents)))
    assert found == {"icudt73l/coll/de.res": b"k" * 32, "icudt73l/zoneinfo64.res": b"z" * 48}


def test_not_a_package_is_refused():
    with pytest.raises(ValueError, match="ICU common data"):
        icu.items(b"\x20\x00\x00\x00" + b"\0" * 60)


REAL = sorted(glob.glob(os.path.join(os.path.dirname(__import__("PySide6").__file__),
                                     "Qt", "lib", "libicudata.so.*[0-9]")))


@pytest.mark.skipif(not REAL or not all(shutil.which(t) for t in ("as", "ld", "readelf")),
                    reason="no ICU in this PySide6 wheel, or no binutils")
def test_the_real_library_shrinks_with_every_kept_item_unchanged(tmp_path: Path):
    original = REAL[-1]
    target = tmp_path / os.path.basename(original)
    saved = icu.shrink(original, target)
    assert saved > 10_000_000
    name, before = icu.exported_package(original)
    assert icu.exported_package(str(target))[0] == name
    _, kept = icu.items(icu.exported_package(str(target))[1])
    _, whole = icu.items(before)
    assert kept and all(not icu.unused_item(n) for n in kept)
    assert {n: whole[n] for n in whole if not icu.unused_item(n)} == kept
    dynamic = subprocess.run(["readelf", "-W", "-d", "--dyn-syms", str(target)],
                             capture_output=True, text=True, check=True).stdout
    assert "OBJECT  GLOBAL DEFAULT" in dynamic and name in dynamic
    assert f"[{os.path.basename(original)}]" in dynamic                  # its soname
