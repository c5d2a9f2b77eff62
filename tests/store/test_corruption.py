"""A damaged file is found by `check` and at start-up, and is never written to."""

from __future__ import annotations

import hashlib
import random
import shutil

import pytest

from needledesk.cli import main
from needledesk.demo import fill
from needledesk.store.database import (
    DamagedDatabaseError,
    open_checked,
    open_database,
    quick_check,
)
from needledesk.store.repository import Repository


@pytest.fixture
def damaged(tmp_path):
    sound = tmp_path / "sound.db"
    repo = Repository(open_database(sound))
    fill(repo, clients=40, seed=5)
    repo.db.close()  # checkpoints the WAL into the file
    copy = tmp_path / "damaged.db"
    shutil.copy(sound, copy)
    data = bytearray(copy.read_bytes())
    middle = len(data) // 2
    rng = random.Random(3)
    data[middle:middle + 65536] = bytes(rng.getrandbits(8) for _ in range(65536))
    copy.write_bytes(bytes(data))
    return sound, copy


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_quick_check_finds_the_damage(damaged):
    sound, copy = damaged
    assert quick_check(sound) == []
    assert quick_check(copy) != []


def test_check_exits_non_zero_with_a_clear_line(damaged, capsys):
    _, copy = damaged
    before = _digest(copy)
    assert main(["--db", str(copy), "check"]) == 1
    err = capsys.readouterr().err
    assert "integrity" in err and "Traceback" not in err
    assert _digest(copy) == before


def test_start_up_refuses_to_write_to_a_damaged_file(damaged):
    _, copy = damaged
    before = _digest(copy)
    with pytest.raises(DamagedDatabaseError, match="damaged") as caught:
        open_checked(copy)
    assert "has not been changed" in str(caught.value)
    assert _digest(copy) == before
    wal = copy.with_name(copy.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "nothing was written, not even a log"


def test_a_sound_file_opens(damaged):
    sound, _ = damaged
    assert Repository(open_checked(sound)).count_clients() == 40
