"""One writer per database: the lock refuses a second process, survives nobody's crash, and
the network-share check reads the mounts table."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from needledesk.errors import NeedleDeskError
from needledesk.store.lock import (
    AlreadyOpenError,
    DatabaseLock,
    _windows_network,
    lock_path_for,
    network_filesystem,
)

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="flock, SIGKILL and POSIX modes")

TRY_ACQUIRE = """
import sys
from needledesk.store.lock import AlreadyOpenError, DatabaseLock
try:
    lock = DatabaseLock.acquire(sys.argv[1])
except AlreadyOpenError as exc:
    print(exc)
    sys.exit(3)
print("acquired")
lock.release()
"""

HOLD = """
import sys, time
from needledesk.store.lock import DatabaseLock
lock = DatabaseLock.acquire(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def python(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT,
                          env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=60)


def holder_json(db_path) -> dict:
    return json.loads(lock_path_for(db_path).read_text(encoding="utf-8"))


@posix_only
def test_a_second_process_is_refused_with_the_holders_pid_then_admitted(db_path):
    lock = DatabaseLock.acquire(db_path)
    try:
        refused = python(TRY_ACQUIRE, db_path)
    finally:
        lock.release()
    admitted = python(TRY_ACQUIRE, db_path)

    assert refused.returncode == 3, refused.stderr
    message = refused.stdout.strip()
    assert message.startswith("NeedleDesk is already open on this database (pid "
                              f"{os.getpid()} on host {socket.gethostname()} since ")
    assert message.endswith("). Close it there first.")
    assert admitted.returncode == 0, admitted.stderr
    assert admitted.stdout.strip() == "acquired"


@posix_only
def test_a_killed_holder_leaves_a_stale_file_that_is_taken_over(db_path):
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(db_path)], cwd=ROOT,
                             env=os.environ | {"PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 30)
        assert ready and child.stdout.readline().strip() == "locked", child.stderr.read()
        with pytest.raises(AlreadyOpenError, match=rf"\(pid {child.pid} on host "):
            DatabaseLock.acquire(db_path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()

    assert child.returncode == -signal.SIGKILL
    assert holder_json(db_path)["pid"] == child.pid  # the stale file is still there
    with DatabaseLock.acquire(db_path):
        assert holder_json(db_path)["pid"] == os.getpid()


def test_in_this_process_too_a_second_acquire_is_refused(db_path):
    with DatabaseLock.acquire(db_path), pytest.raises(AlreadyOpenError):
        DatabaseLock.acquire(db_path)


@posix_only
def test_the_lock_file_is_private_and_says_who_holds_it(db_path):
    stale = lock_path_for(db_path)
    stale.write_text("left behind by a crash")
    os.chmod(stale, 0o644)
    umask = os.umask(0)
    try:
        with DatabaseLock.acquire(db_path) as lock:
            mode = stat.S_IMODE(os.stat(lock.path).st_mode)
            holder = holder_json(db_path)
    finally:
        os.umask(umask)

    assert lock.path == db_path.resolve().with_name("clinic.db.lock")
    assert mode == 0o600
    assert set(holder) == {"pid", "host", "user", "started"}
    assert (holder["pid"], holder["host"]) == (os.getpid(), socket.gethostname())


def test_release_removes_the_file_and_can_be_called_twice(db_path):
    lock = DatabaseLock.acquire(db_path)
    lock.release()
    lock.release()

    assert not lock.held
    assert not lock_path_for(db_path).exists()
    DatabaseLock.acquire(db_path).release()


def test_a_folder_where_no_lock_can_be_made_is_one_clear_error(tmp_path):
    with pytest.raises(NeedleDeskError, match="cannot be opened"):
        DatabaseLock.acquire(tmp_path / "no-such-folder" / "clinic.db")


def test_the_message_without_readable_holder_details_still_says_what_to_do(tmp_path):
    assert str(AlreadyOpenError(tmp_path / "x.lock", {})) == (
        "NeedleDesk is already open on this database (in another window or on another "
        "computer). Close it there first.")
    old = AlreadyOpenError(tmp_path / "x.lock", {"pid": 7, "host": "desk-2",
                                                 "started": "2020-01-02T09:30:00"})
    assert "(pid 7 on host desk-2 since 2020-01-02 09:30)" in str(old)


# --- whatever is at the lock's name is never written through ----------------------------------

NOT_A_LOCK = r"clinic\.db\.lock: is not NeedleDesk's lock file \({}\); it was left untouched"


@posix_only
def test_a_symlink_at_the_lock_name_is_refused_and_its_target_untouched(db_path, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"a patient's letter\n" * 50)
    before = victim.read_bytes()
    lock_path_for(db_path).symlink_to(victim)
    with pytest.raises(NeedleDeskError,
                       match=NOT_A_LOCK.format("it is a symbolic link or junction")):
        DatabaseLock.acquire(db_path)
    assert victim.read_bytes() == before
    assert lock_path_for(db_path).is_symlink()


@posix_only
def test_a_dangling_symlink_at_the_lock_name_creates_nothing(db_path, tmp_path):
    victim = tmp_path / "created-by-the-lock.txt"
    lock_path_for(db_path).symlink_to(victim)
    with pytest.raises(NeedleDeskError, match="is not NeedleDesk's lock file"):
        DatabaseLock.acquire(db_path)
    assert not victim.exists()


@posix_only
def test_a_symlink_made_between_the_check_and_the_open_is_not_followed(db_path, tmp_path,
                                                                       monkeypatch):
    """O_NOFOLLOW: even if the look before opening saw nothing, the open does not follow."""
    from needledesk.store import lock as lock_module

    victim = tmp_path / "victim.txt"  # not there yet: following the link would create it
    lock_path_for(db_path).symlink_to(victim)
    real, calls = getattr(lock_module, "_lstat", None), []

    def first_look_misses(path):
        calls.append(path)
        return None if len(calls) == 1 else real(path)

    monkeypatch.setattr(lock_module, "_lstat", first_look_misses, raising=False)
    with pytest.raises(NeedleDeskError, match="is not NeedleDesk's lock file"):
        DatabaseLock.acquire(db_path)
    assert not victim.exists()
    assert lock_path_for(db_path).is_symlink()


@posix_only
def test_a_hard_link_at_the_lock_name_is_refused_and_untouched(db_path, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_bytes(b"treatment notes\n" * 20)
    os.link(other, lock_path_for(db_path))
    with pytest.raises(NeedleDeskError, match=NOT_A_LOCK.format(
            "it is a hard link: the same file has another name")):
        DatabaseLock.acquire(db_path)
    assert other.read_bytes() == b"treatment notes\n" * 20
    assert os.path.samefile(other, lock_path_for(db_path))


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_something_other_than_a_file_at_the_lock_name_is_refused(db_path, kind):
    where = lock_path_for(db_path)
    os.mkfifo(where) if kind == "fifo" else where.mkdir()
    with pytest.raises(NeedleDeskError, match=NOT_A_LOCK.format("it is not a regular file")):
        DatabaseLock.acquire(db_path)
    assert where.exists()


def test_a_big_file_at_the_lock_name_is_someones_data_and_is_not_truncated(db_path):
    where = lock_path_for(db_path)
    data = b'{"records": []}' + b" " * 10_000
    where.write_bytes(data)
    with pytest.raises(NeedleDeskError, match=NOT_A_LOCK.format(
            "it holds 10,015 bytes, more than a lock")):
        DatabaseLock.acquire(db_path)
    assert where.read_bytes() == data


def test_a_refused_lock_is_not_held_and_the_next_try_works_once_it_is_moved(db_path,
                                                                            tmp_path):
    where = lock_path_for(db_path)
    where.write_bytes(b"x" * 5000)
    with pytest.raises(NeedleDeskError, match="is not NeedleDesk's lock file"):
        DatabaseLock.acquire(db_path)
    where.rename(tmp_path / "moved-away")
    with DatabaseLock.acquire(db_path):
        assert holder_json(db_path)["pid"] == os.getpid()


# --- network file systems -------------------------------------------------------------------


def test_a_local_folder_is_not_a_network_share(tmp_path):
    assert network_filesystem(tmp_path / "clinic.db") is None


@pytest.fixture
def mounts(tmp_path):
    base = tmp_path.resolve()
    table = tmp_path / "mounts"
    table.write_text("\n".join([
        "/dev/vda1 / ext4 rw,relatime 0 0",
        f"nas:/export/clinic {base}/nfs nfs4 rw,vers=4.2 0 0",
        f"tmpfs {base}/nfs/scratch tmpfs rw 0 0",
        f"//nas/share {base}/smb\\040share cifs rw 0 0",
        f"ana@host: {base}/ssh fuse.sshfs rw,user_id=1000 0 0",
        f"portal {base}/portal fuse.portal rw 0 0",
        "",
    ]), encoding="utf-8")
    return base, table


@pytest.mark.parametrize("where, expected", [
    ("nfs/clinic.db", "nfs4"),
    ("nfs", "nfs4"),
    ("nfs/scratch/clinic.db", None),  # a local mount inside the share hides it
    ("nfs-other/clinic.db", None),  # a sibling that only shares the name's start
    ("smb share/clinic.db", "cifs"),
    ("ssh/deep/clinic.db", "fuse.sshfs"),
    ("portal/clinic.db", None),
    ("clinic.db", None),
])
def test_the_longest_mount_point_decides(mounts, where, expected):
    base, table = mounts
    assert network_filesystem(base / where, mounts=table) == expected


def test_an_unreadable_mounts_table_is_no_warning_and_no_error(tmp_path):
    assert network_filesystem(tmp_path / "clinic.db", mounts=tmp_path) is None
    assert network_filesystem(tmp_path / "clinic.db", mounts=tmp_path / "missing") is None


@pytest.mark.parametrize("path, drive_type, expected", [
    (r"\\nas\clinic\needledesk.db", 3, "network share"),
    ("//nas/clinic/needledesk.db", 3, "network share"),
    (r"\\?\UNC\nas\clinic\needledesk.db", 3, "network share"),
    (r"Z:\clinic\needledesk.db", 4, "network drive"),
    (r"\\?\Z:\clinic\needledesk.db", 4, "network drive"),
    (r"C:\Users\ana\needledesk.db", 3, None),
])
def test_windows_unc_paths_and_mapped_drives(path, drive_type, expected):
    """The Windows branch, with GetDriveTypeW replaced (DRIVE_FIXED 3, DRIVE_REMOTE 4)."""
    assert _windows_network(path, lambda root: drive_type) == expected
