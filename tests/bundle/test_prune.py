"""The installer bundle's pruning (needledesk/_build/prune.py, called by build.spec): which Qt
plugins, translations and libraries are kept or dropped, on a made-up Analysis with a made-up
link graph (no PyInstaller, no real binaries)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from needledesk._build import prune as p

QT = "/venv/site-packages/PySide6/"
PYTHON = "/usr/lib/python3.11/"


@dataclass
class FakeAnalysis:
    binaries: list[tuple[str, str, str]] = field(default_factory=list)
    datas: list[tuple[str, str, str]] = field(default_factory=list)


def links(graph: dict[str, set[str]]):
    """A linked_names reader from {source path: names it links to}."""
    return lambda path: frozenset(graph.get(path, set()))


@pytest.mark.parametrize("dest", [
    "PySide6/Qt/plugins/platforms/libqxcb.so",                 # Linux wheel layout
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/plugins/platforms/qwindows.dll",                  # Windows wheel layout
    "PySide6\\plugins\\platforms\\qwindows.dll",               # as Windows writes it
    "PySide6/Qt/plugins/imageformats/libqjpeg.so",
    "PySide6/plugins/imageformats/qico.dll",
    "PySide6/Qt/plugins/printsupport/libcupsprintersupport.so",
    "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
    "PySide6/plugins/styles/qmodernwindowsstyle.dll",
    "PySide6/Qt/lib/libQt6Core.so.6",                          # not a plugin at all
    "PySide6/QtCore.abi3.so",
    "reportlab/fonts/Vera.ttf",
])
def test_kept_qt_files_and_everything_else(dest):
    assert not p.unwanted_qt_file(p.dest((dest, "", "BINARY")))


@pytest.mark.parametrize("dest", [
    "PySide6/Qt/translations/qtbase_de.qm",                    # every translation
    "PySide6/translations/qt_fr.qm",
    "PySide6/Qt/plugins/platforms/libqwayland-egl.so",         # a platform not kept
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/imageformats/libqgif.so",
    "PySide6/plugins/imageformats/qsvg.dll",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",           # a type not kept at all
    "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "PySide6/Qt/plugins/tls/libqopensslbackend.so",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6\\plugins\\sqldrivers\\qsqlite.dll",
])
def test_dropped_qt_files(dest):
    assert p.unwanted_qt_file(p.dest((dest, "", "BINARY")))


@pytest.mark.parametrize(("dest", "windows", "kept"), [
    # the camera's QtMultimedia backend: FFmpeg on Linux (and macOS), Media Foundation on
    # Windows, where FFmpeg's DLLs would add some 19 MB
    ("PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so", False, True),
    ("PySide6/plugins/multimedia/ffmpegmediaplugin.dll", True, False),
    ("PySide6\\plugins\\multimedia\\windowsmediaplugin.dll", True, True),
    ("PySide6/plugins/multimedia/windowsmediaplugin.dll", False, False),
    ("PySide6/Qt/plugins/multimedia/libgstreamermediaplugin.so", False, False),
    ("PySide6/Qt/translations/qtmultimedia_de.qm", False, False),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True, True),   # the rest as everywhere
])
def test_the_camera_backend_kept_is_the_platforms_own(dest, windows, kept):
    plugins = p.qt_plugins(windows)
    assert p.unwanted_qt_file(p.dest((dest, "", "BINARY")), plugins) is not kept


def test_plugin_names_without_lib_prefix_or_suffixes():
    assert p.plugin_name("libqxcb.so") == "qxcb"
    assert p.plugin_name("qxcb.dll") == "qxcb"
    assert p.plugin_name("libqcocoa.dylib") == "qcocoa"


def test_a_library_is_kept_while_something_kept_links_to_it_directly_or_not():
    binaries = [
        ("PySide6/QtGui.abi3.so", QT + "QtGui.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", QT + "Qt/lib/libQt6Gui.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Core.so.6", QT + "Qt/lib/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libicudata.so.73", QT + "Qt/lib/libicudata.so.73", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", QT + "Qt/lib/libQt6Quick.so.6", "BINARY"),
        ("libpython3.11.so.1.0", PYTHON + "libpython3.11.so.1.0", "BINARY"),
        ("libssl.so.3", "/usr/lib/libssl.so.3", "BINARY"),
    ]
    graph = {
        QT + "QtGui.abi3.so": {"libqt6gui.so.6"},
        QT + "Qt/lib/libQt6Gui.so.6": {"libqt6core.so.6"},
        QT + "Qt/lib/libQt6Core.so.6": {"libicudata.so.73", "libc.so.6"},
        QT + "Qt/lib/libQt6Quick.so.6": {"libqt6core.so.6"},   # nothing links to Quick
    }
    kept = [e[0] for e in p.garbage_collected(binaries, links(graph))]
    assert kept == ["PySide6/QtGui.abi3.so", "PySide6/Qt/lib/libQt6Gui.so.6",
                    "PySide6/Qt/lib/libQt6Core.so.6", "PySide6/Qt/lib/libicudata.so.73",
                    "libpython3.11.so.1.0"]


def test_a_kept_qt_plugin_is_a_root_and_keeps_what_it_links_to():
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", QT + "plugins/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", QT + "libQt6XcbQpa.so.6", "BINARY"),
    ]
    graph = {QT + "plugins/libqxcb.so": {"libqt6xcbqpa.so.6"}}
    assert len(p.garbage_collected(binaries, links(graph))) == 2


def test_a_binary_whose_links_cannot_be_read_keeps_every_library():
    binaries = [
        ("PySide6/QtCore.abi3.so", QT + "QtCore.abi3.so", "EXTENSION"),
        ("libunused.so", "/x/libunused.so", "BINARY"),
    ]
    unreadable = {QT + "QtCore.abi3.so": {"*"}}
    assert p.garbage_collected(binaries, links(unreadable)) == binaries


def test_windows_names_are_matched_without_case():
    binaries = [
        ("PySide6/QtCore.pyd", "C:/py/PySide6/QtCore.pyd", "EXTENSION"),
        ("PySide6/Qt6Core.dll", "C:/py/PySide6/Qt6Core.dll", "BINARY"),
        ("PySide6/opengl32sw.dll", "C:/py/PySide6/opengl32sw.dll", "BINARY"),
    ]
    graph = {"C:/py/PySide6/QtCore.pyd": {"qt6core.dll"}}   # read lower-cased
    kept = [e[0] for e in p.garbage_collected(binaries, links(graph))]
    assert kept == ["PySide6/QtCore.pyd", "PySide6/Qt6Core.dll"]


def test_the_libraries_qt_expects_of_the_system_are_worked_out_on_linux_only(tmp_path):
    qt = tmp_path / "PySide6"
    qt.mkdir()
    core = qt / "libQt6Core.so.6"
    gui = qt / "libQt6Gui.so.6"
    binaries = [("PySide6/Qt/lib/libQt6Core.so.6", str(core), "BINARY"),
                ("PySide6/Qt/lib/libQt6Gui.so.6", str(gui), "BINARY"),
                ("libfontconfig.so.1", "/usr/lib/libfontconfig.so.1", "BINARY")]
    graph = {str(core): {"libglib-2.0.so.0", "libc.so.6"},
             str(gui): {"libqt6core.so.6", "libfontconfig.so.1", "*"}}
    packages = (str(qt) + "/",)
    assert p.expected_of_system(binaries, links(graph), packages, linux=True) == {
        "libglib-2.0.so.0", "libc.so.6", "libfontconfig.so.1"}
    assert p.expected_of_system(binaries, links(graph), packages, linux=False) == set()


def test_prune_on_linux_drops_plugins_translations_system_and_unlinked_libraries(
        tmp_path, capsys):
    qt = tmp_path / "PySide6"
    python = tmp_path / "python"
    system = tmp_path / "usr-lib"
    for folder in (qt, python, system):
        folder.mkdir()
    files = {}
    for name, size in [("QtGui.abi3.so", 10), ("libQt6Gui.so.6", 20), ("libqxcb.so", 5),
                       ("libqgtk3.so", 7), ("libgtk-3.so.0", 1_000_000), ("qt_de.qm", 3),
                       ("libfontconfig.so.1", 11)]:
        path = (system if name.startswith(("libgtk", "libfont")) else qt) / name
        path.write_bytes(b"x" * size)
        files[name] = str(path)
    sqlite = python / "libsqlite3.so.0"
    sqlite.write_bytes(b"s")
    sqlite_ext = python / "_sqlite3.so"
    sqlite_ext.write_bytes(b"e")
    analysis = FakeAnalysis(
        binaries=[
            ("PySide6/QtGui.abi3.so", files["QtGui.abi3.so"], "EXTENSION"),
            ("PySide6/Qt/lib/libQt6Gui.so.6", files["libQt6Gui.so.6"], "BINARY"),
            ("PySide6/Qt/plugins/platforms/libqxcb.so", files["libqxcb.so"], "BINARY"),
            ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", files["libqgtk3.so"], "BINARY"),
            ("libgtk-3.so.0", files["libgtk-3.so.0"], "BINARY"),
            # Bundled by PyInstaller from the system, but Qt expects it there: dropped.
            ("libfontconfig.so.1", files["libfontconfig.so.1"], "BINARY"),
            # Python's own SQLite stays although a Qt file names it too.
            ("lib-dynload/_sqlite3.so", str(sqlite_ext), "EXTENSION"),
            ("libsqlite3.so.0", str(sqlite), "BINARY"),
        ],
        datas=[
            ("PySide6/Qt/translations/qt_de.qm", files["qt_de.qm"], "DATA"),
            ("libgtk-3.so", "libgtk-3.so.0", "SYMLINK"),       # a link to a dropped library
            ("libQt6Gui.so", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
            ("resources/fonts/DejaVuSans.ttf", "/r/DejaVuSans.ttf", "DATA"),
        ])
    graph = {
        files["QtGui.abi3.so"]: {"libqt6gui.so.6"},
        files["libQt6Gui.so.6"]: {"libfontconfig.so.1", "libsqlite3.so.0", "libc.so.6"},
        files["libqxcb.so"]: {"libqt6gui.so.6"},
        files["libqgtk3.so"]: {"libgtk-3.so.0"},
        str(sqlite_ext): {"libsqlite3.so.0"},
    }
    dropped = p.prune(analysis, linked_names=links(graph), qt_packages=(str(qt) + "/",),
                      python_dirs=(str(python) + "/",), linux=True)
    assert [e[0] for e in analysis.binaries] == [
        "PySide6/QtGui.abi3.so", "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so", "lib-dynload/_sqlite3.so",
        "libsqlite3.so.0"]
    assert [e[0] for e in analysis.datas] == ["libQt6Gui.so", "resources/fonts/DejaVuSans.ttf"]
    assert dropped == {"PySide6/Qt/plugins/platformthemes/libqgtk3.so", "libgtk-3.so.0",
                       "libfontconfig.so.1", "PySide6/Qt/translations/qt_de.qm",
                       "libgtk-3.so"}
    out = capsys.readouterr().out
    # glibc is not worth naming; what README.md lists is.
    assert "NeedleDesk: Qt expects of the system: libfontconfig.so.1 libsqlite3.so.0\n" in out
    assert "NeedleDesk: pruned 5 Qt plugins, translations and libraries (1 MB)" in out


def test_prune_on_windows_leaves_no_library_to_the_system():
    analysis = FakeAnalysis(binaries=[
        ("PySide6\\QtGui.pyd", "C:\\py\\PySide6\\QtGui.pyd", "EXTENSION"),
        ("PySide6\\Qt6Gui.dll", "C:\\py\\PySide6\\Qt6Gui.dll", "BINARY"),
        ("PySide6\\opengl32sw.dll", "C:\\py\\PySide6\\opengl32sw.dll", "BINARY"),
        ("PySide6\\plugins\\platforms\\qwindows.dll", "C:\\q\\qwindows.dll", "BINARY"),
        ("PySide6\\plugins\\platforms\\qdirect2d.dll", "C:\\q\\qdirect2d.dll", "BINARY"),
    ], datas=[("PySide6\\translations\\qt_de.qm", "C:\\q\\qt_de.qm", "DATA")])
    graph = {"C:\\py\\PySide6\\QtGui.pyd": {"qt6gui.dll"},
             "C:\\q\\qwindows.dll": {"qt6gui.dll", "kernel32.dll"}}
    p.prune(analysis, linked_names=links(graph), qt_packages=("C:\\py\\PySide6\\",),
            python_dirs=("C:\\py\\",), linux=False)
    assert [e[0] for e in analysis.binaries] == [
        "PySide6\\QtGui.pyd", "PySide6\\Qt6Gui.dll", "PySide6\\plugins\\platforms\\qwindows.dll"]
    assert analysis.datas == []


def test_macos_a_framework_goes_whole_when_its_library_is_dropped():
    analysis = FakeAnalysis(
        binaries=[("PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick", "/q/QtQuick",
                   "BINARY")],
        datas=[("PySide6/Qt/lib/QtQuick.framework/Resources/Info.plist", "/q/Info.plist",
                "DATA"),
               ("PySide6/Qt/lib/QtCore.framework/Resources/Info.plist", "/q/Core.plist",
                "DATA")])
    p.prune(analysis, linked_names=links({}), qt_packages=("/q/",), python_dirs=("/p/",),
            linux=False)
    assert analysis.binaries == []
    assert [e[0] for e in analysis.datas] == [
        "PySide6/Qt/lib/QtCore.framework/Resources/Info.plist"]


def test_the_linked_names_reader_keeps_everything_when_it_cannot_read(tmp_path, capsys):
    read = p.linked_names_reader(native=False)
    missing = str(tmp_path / "no-such-library.so")
    assert read(missing) == frozenset({"*"})
    assert "pruning no libraries" in capsys.readouterr().out


def test_pythons_openssl_becomes_a_link_to_the_copy_psycopgs_wheel_carries(capsys):
    analysis = FakeAnalysis(binaries=[
        ("python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "/py/_ssl.so",
         "EXTENSION"),
        ("libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3", "BINARY"),
        ("libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "BINARY"),
        ("psycopg_binary.libs/libssl-6a9b88ec.so.3", "/w/libssl-6a9b88ec.so.3", "BINARY"),
        ("psycopg_binary.libs/libcrypto-3a0647ea.so.3", "/w/libcrypto-3a0647ea.so.3",
         "BINARY"),
        ("psycopg_binary.libs/libpq-e9b5c9ac.so.5.18", "/w/libpq.so", "BINARY"),
    ])
    linked = p.share_with_wheels(analysis)
    assert linked == {"libssl.so.3": "psycopg_binary.libs/libssl-6a9b88ec.so.3",
                      "libcrypto.so.3": "psycopg_binary.libs/libcrypto-3a0647ea.so.3"}
    assert analysis.binaries[1] == ("libssl.so.3", "psycopg_binary.libs/libssl-6a9b88ec.so.3",
                                    "SYMLINK")
    assert analysis.binaries[2] == ("libcrypto.so.3",
                                    "psycopg_binary.libs/libcrypto-3a0647ea.so.3", "SYMLINK")
    assert [e[2] for e in analysis.binaries[3:]] == ["BINARY"] * 3   # the copies themselves
    assert "NeedleDesk: one OpenSSL: libcrypto.so.3 -> psycopg_binary.libs/" in \
        capsys.readouterr().out


def test_a_link_in_a_subfolder_points_up_to_the_copy():
    analysis = FakeAnalysis(binaries=[
        ("lib/libssl.so.3", "/usr/lib/libssl.so.3", "BINARY"),
        ("psycopg_binary.libs/libssl-0123abcd.so.3", "/w/libssl-0123abcd.so.3", "BINARY")])
    p.share_with_wheels(analysis)
    assert analysis.binaries[0] == ("lib/libssl.so.3",
                                    "../psycopg_binary.libs/libssl-0123abcd.so.3", "SYMLINK")


@pytest.mark.parametrize("binaries", [
    [("libssl.so.3", "/usr/lib/libssl.so.3", "BINARY")],                   # no wheel's copy
    [("libssl.so.3", "/usr/lib/libssl.so.3", "BINARY"),                     # another library
     ("x.libs/libssl3-6a9b88ec.so.3", "/w/a", "BINARY"),
     ("x.libs/libssl-6a9b88ec.so.1.1", "/w/b", "BINARY")],
])
def test_without_a_wheels_copy_of_the_same_library_nothing_changes(binaries):
    analysis = FakeAnalysis(binaries=list(binaries))
    assert p.share_with_wheels(analysis) == {}
    assert analysis.binaries == binaries

