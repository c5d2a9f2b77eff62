"""anyascii's tables packed into one file for the bundle read exactly as the loose ones."""

from __future__ import annotations

import importlib

import anyascii as anyascii_module
import pytest

from needledesk._build import anyascii_pack

SAMPLES = ["Фёдорова", "Παπαδοπούλου", "Иванов", "López", "李小龍", "محمد", "שרה", "Nguyễn",
           "\U0001f600 \U000e0041", "\uffff\U0010fffd"]


@pytest.fixture
def fresh_anyascii():
    module = importlib.reload(anyascii_module)
    yield module
    importlib.reload(anyascii_module)   # the loose tables again for every other test


def test_the_packed_tables_read_as_the_loose_ones(tmp_path, fresh_anyascii):
    loose = [fresh_anyascii.anyascii(text) for text in SAMPLES]
    packed = tmp_path / anyascii_pack.ZIP_NAME
    count = anyascii_pack.pack(packed)
    assert count == len([p for p in anyascii_pack.data_folder().iterdir()
                         if p.is_file() and not p.name.startswith(("_", "."))])
    module = importlib.reload(anyascii_module)    # no table cached
    anyascii_pack.install(packed)
    assert [module.anyascii(text) for text in SAMPLES] == loose
    assert loose[0] and loose[0] != SAMPLES[0]


def test_a_missing_table_is_no_character_as_anyascii_expects(tmp_path, fresh_anyascii):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "000").write_bytes((anyascii_pack.data_folder() / "000").read_bytes())
    packed = tmp_path / anyascii_pack.ZIP_NAME
    assert anyascii_pack.pack(packed, folder) == 1
    anyascii_pack.install(packed)
    assert fresh_anyascii.anyascii("aФb") == "ab"


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="no anyascii tables"):
        anyascii_pack.pack(tmp_path / "x.zip", tmp_path)
