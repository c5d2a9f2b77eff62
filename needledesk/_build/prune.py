"""What the installer bundle leaves out: build.spec's pruning of PyInstaller's Analysis.

PyInstaller's Qt hooks collect every plugin of every Qt module they meet and all of Qt's
translations. `prune` keeps the Qt plugins in QT_PLUGINS and drops the rest and the
translations (the program loads none); on Linux it leaves the libraries Qt expects of the
system to the system, as when running from source; then every shared library nothing left
links to goes too. `strip_symbols` then strips symbol tables on Linux.

Plain functions over PyInstaller's TOC entries, `(dest, source, kind)` tuples, with what a
binary links to passed in (`linked_names`), so the decisions are unit-tested without
PyInstaller (tests/bundle/test_prune.py). No platform is assumed: build.spec runs it with
Linux's Python, and with the Windows Python under Wine for the Windows bundle, so paths are
compared with `/` and the platform is an argument.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

#: A PyInstaller TOC entry: (destination in the bundle, source file, kind).
Entry = tuple[str, str, str]
#: The base names (lower case) of the libraries a binary links to; {"*"}: unreadable.
LinkedNames = Callable[[str], frozenset[str]]

# The Qt plugins kept, by type (a type not listed is dropped whole). Platforms: X11 on
# Linux (Wayland desktops run it through XWayland), Windows, macOS, and offscreen for the
# headless smoke test.
QT_PLUGINS: Mapping[str, frozenset[str]] = {
    "platforms": frozenset({"qxcb", "qoffscreen", "qwindows", "qcocoa"}),
    "imageformats": frozenset({"qjpeg", "qico"}),          # PNG is built into QtGui
    "platforminputcontexts": frozenset({"composeplatforminputcontextplugin",  # dead keys
                                        "ibusplatforminputcontextplugin"}),   # input methods
    # Printers: CUPS on Linux. On Windows print support is built into Qt6PrintSupport.dll
    # (PySide6 6.10+ wheels have no printsupport plugins; windowsprintersupport is for older
    # ones); on macOS Qt 6 prints through the cocoa platform.
    "printsupport": frozenset({"windowsprintersupport", "cupsprintersupport",
                               "cocoaprintersupport"}),
    "styles": frozenset({"qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"}),
    # The camera (needledesk/ui/camera_dialog.py): QtMultimedia's FFmpeg backend, the only
    # one the Linux and macOS wheels carry for camera input. It brings FFmpeg (some 19 MB)
    # and, on Linux, links to QtQuick and QtQml (some 17 MB), so they stay.
    "multimedia": frozenset({"ffmpegmediaplugin"}),
}

#: Windows: the Media Foundation backend (windowsmediaplugin) reads cameras with Windows'
#: own codecs, 0.3 MB; the FFmpeg one would add FFmpeg's DLLs (some 19 MB) for nothing the
#: camera needs. Qt takes the backend that is there (FFmpeg first when both are).
WINDOWS_QT_PLUGINS: Mapping[str, frozenset[str]] = {
    **QT_PLUGINS, "multimedia": frozenset({"windowsmediaplugin"})}


def qt_plugins(windows: bool) -> Mapping[str, frozenset[str]]:
    """The Qt plugins kept for the platform the bundle is built for."""
    return WINDOWS_QT_PLUGINS if windows else QT_PLUGINS

QT_DIR = re.compile(r"^PySide6/(?:Qt/)?(plugins|translations)/(?:([^/]+)/)?")
_GLIBC = re.compile(r"^(ld-linux.*|lib(c|m|dl|pthread|rt|resolv|util)\.so.*)$")


class Analysis(Protocol):
    """What `prune` and `strip_symbols` use of PyInstaller's Analysis."""

    binaries: list[Any]
    datas: list[Any]


def dest(entry: Sequence[str]) -> str:
    """An entry's place in the bundle, with `/` on every system."""
    return entry[0].replace("\\", "/")


def plugin_name(filename: str) -> str:
    """`libqxcb.so` and `qxcb.dll` are both `qxcb`."""
    stem = filename.split(".")[0]
    return stem[3:] if stem.startswith("lib") else stem


def unwanted_qt_file(dest: str, plugins: Mapping[str, Collection[str]] = QT_PLUGINS) -> bool:
    """A Qt translation, or a plugin not in `plugins`."""
    match = QT_DIR.match(dest)
    if not match:
        return False
    if match.group(1) == "translations":
        return True
    kind = match.group(2)
    return kind not in plugins or plugin_name(dest.rsplit("/", 1)[1]) not in plugins[kind]


def linked_names_reader(native: bool) -> LinkedNames:
    """What a binary itself links to, cached. `native`: Windows or macOS, read by PyInstaller
    (bindepend); otherwise (Linux) from the ELF's NEEDED entries with objdump (PyInstaller
    needs binutils there anyway), because PyInstaller's own reading is ldd's, which lists the
    whole closure, system libraries' needs included."""

    @functools.cache
    def linked_names(path: str) -> frozenset[str]:
        try:
            if native:
                from PyInstaller.depend import bindepend

                names = [name for name, _ in bindepend.get_imports(path)]
            else:
                dump = subprocess.run(["objdump", "-p", path], capture_output=True, text=True,
                                      check=True).stdout
                names = re.findall(r"^\s*NEEDED\s+(\S+)", dump, re.MULTILINE)
            return frozenset(os.path.basename(name).lower() for name in names)
        except Exception as exc:   # unreadable: keep everything it could need
            print(f"NeedleDesk: could not read what {path} links to ({exc}); "
                  "pruning no libraries")
            return frozenset({"*"})

    return linked_names


def reachable(binaries: Sequence[Entry], linked_names: LinkedNames) -> set[str]:
    """Destinations of the binaries some root links to, directly or not. Roots: the Python
    extension modules, the Qt plugins and Python itself."""
    by_name: dict[str, list[Entry]] = {}
    for entry in binaries:
        by_name.setdefault(os.path.basename(dest(entry)).lower(), []).append(entry)
    todo = [entry for entry in binaries
            if entry[2] == "EXTENSION" or QT_DIR.match(dest(entry))
            or os.path.basename(dest(entry)).lower().startswith(("libpython", "python"))]
    seen = {dest(entry) for entry in todo}
    while todo:
        entry = todo.pop()
        names = linked_names(entry[1])
        if "*" in names:
            return {dest(e) for e in binaries}
        for name in names:
            for linked in by_name.get(name, ()):
                if dest(linked) not in seen:
                    seen.add(dest(linked))
                    todo.append(linked)
    return seen


def framework(dest: str) -> str | None:
    """macOS: the `.framework` folder `dest` lies in, if any."""
    match = re.match(r"^(.*?\.framework)/", dest)
    return match.group(1) if match else None


def expected_of_system(binaries: Sequence[Entry], linked_names: LinkedNames,
                       qt_packages: tuple[str, ...], linux: bool) -> set[str]:
    """Linux: the libraries the Qt files (those under `qt_packages`, real paths ending in a
    separator) link to that the PySide6 wheels do not carry."""
    if not linux:
        return set()
    qt = [e for e in binaries if os.path.realpath(e[1]).startswith(qt_packages)]
    shipped = {os.path.basename(e[1]).lower() for e in qt}
    linked: set[str] = set().union(*(linked_names(e[1]) for e in qt))
    return linked - shipped - {"*"}


def garbage_collected(binaries: Sequence[Entry], linked_names: LinkedNames) -> list[Entry]:
    """`binaries` without those nothing reachable links to."""
    kept = reachable(binaries, linked_names)
    return [e for e in binaries if dest(e) in kept]


def prune(analysis: Analysis, *, linked_names: LinkedNames, qt_packages: tuple[str, ...],
          python_dirs: tuple[str, ...], linux: bool,
          plugins: Mapping[str, Collection[str]] = QT_PLUGINS) -> set[str]:
    """Drop the unwanted Qt plugins and translations, the libraries left to the system (on
    Linux; those of Python itself, under `python_dirs`, stay), and then every library
    nothing kept links to. Changes `analysis` in place; returns the destinations dropped."""
    binaries = garbage_collected([e for e in analysis.binaries
                                  if not unwanted_qt_file(dest(e), plugins)], linked_names)
    system = expected_of_system(binaries, linked_names, qt_packages, linux)
    binaries = garbage_collected([
        e for e in binaries if os.path.basename(dest(e)).lower() not in system
        or os.path.realpath(e[1]).startswith(python_dirs)], linked_names)
    if system:
        print("NeedleDesk: Qt expects of the system: "
              + " ".join(sorted(name for name in system if not _GLIBC.match(name))))

    dropped = {dest(e) for e in analysis.binaries} - {dest(e) for e in binaries}
    frameworks = {framework(d) for d in dropped} - {None}   # macOS: a framework goes whole
    datas = []
    for entry in analysis.datas:
        where = dest(entry)
        if unwanted_qt_file(where, plugins) or framework(where) in frameworks:
            dropped.add(where)
        elif entry[2] == "SYMLINK" and entry[1].replace("\\", "/") in dropped:
            dropped.add(where)   # a link to a dropped library
        else:
            datas.append(entry)
    size = sum(os.path.getsize(e[1]) for e in analysis.binaries + analysis.datas
               if dest(e) in dropped and e[2] != "SYMLINK" and os.path.isfile(e[1]))
    print(f"NeedleDesk: pruned {len(dropped)} Qt plugins, translations and libraries "
          f"({size / 1e6:.0f} MB)")
    analysis.binaries[:] = binaries
    analysis.datas[:] = datas
    return dropped


def strip_symbols(analysis: Analysis, folder: Path, linux: bool) -> None:
    """Linux: the binaries that still carry their symbol tables or debug info (a Python built
    from source, as pyenv builds it; ICU; Pillow's _imaging) are collected as copies run
    through `strip --strip-unneeded`, which keeps what dynamic linking needs: 28 MB less
    with pyenv's Python 3.11, little with a distribution's (stripped already)."""
    strip = shutil.which("strip")
    if not linux or not strip or not shutil.which("readelf"):
        return
    folder.mkdir(parents=True, exist_ok=True)
    for i, (where, src, kind) in enumerate(analysis.binaries):
        if kind == "SYMLINK":
            continue
        sections = subprocess.run(["readelf", "-S", "-W", src], capture_output=True,
                                  text=True).stdout
        if " .symtab " not in sections and " .debug_info " not in sections:
            continue
        copy = folder / where.replace("/", "__")
        shutil.copy2(src, copy)
        if subprocess.run([strip, "--strip-unneeded", str(copy)]).returncode == 0:
            analysis.binaries[i] = (where, str(copy), kind)


#: Linux: the libraries Python's `ssl` module links to, which psycopg's wheel also carries
#: (its libpq's OpenSSL, renamed by auditwheel `libssl-<hash>.so.3`). psycopg imports `ssl`.
SHARED_WITH_A_WHEEL = ("libssl.so.3", "libcrypto.so.3")


def wheel_copy(name: str, dests: Sequence[str]) -> str | None:
    """The destination of a wheel's renamed copy of the library `name` (`libssl.so.3` is
    `psycopg_binary.libs/libssl-6a9b88ec.so.3`), or None."""
    stem, dot, suffix = name.partition(".")
    copy = re.compile(rf"(?:^|/){re.escape(stem)}-[0-9a-f]{{8}}{re.escape(dot + suffix)}$")
    found = sorted(d for d in dests if copy.search(d))
    return found[0] if found else None


def share_with_wheels(analysis: Analysis, names: Sequence[str] = SHARED_WITH_A_WHEEL
                      ) -> dict[str, str]:
    """Linux: each library in `names` that a wheel carries a renamed copy of becomes a
    symbolic link to that copy, so the process loads one OpenSSL, not two (Python's `ssl`
    and psycopg's libpq; 5.4 MB less). OpenSSL 3 keeps its ABI across 3.x, and its symbols
    are versioned (OPENSSL_3.0.0...), so Python's `_ssl`, built against 3.0, runs on the
    wheel's newer 3.x. Changes `analysis` in place; returns {link: its target}."""
    dests = [dest(e) for e in analysis.binaries]
    linked = {}
    for i, entry in enumerate(analysis.binaries):
        where = dest(entry)
        if entry[2] == "SYMLINK" or os.path.basename(where) not in names:
            continue
        target = wheel_copy(os.path.basename(where), dests)
        if target is None:
            continue
        relative = os.path.relpath(target, os.path.dirname(where) or ".").replace("\\", "/")
        analysis.binaries[i] = (entry[0], relative, "SYMLINK")
        linked[where] = target
    if linked:
        print("NeedleDesk: one OpenSSL: " + ", ".join(f"{link} -> {target}" for link, target
                                                     in sorted(linked.items())))
    return linked
