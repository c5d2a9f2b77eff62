"""The performance budget: `python -m needledesk.bench [--json]`.

Builds (once, cached) a demo clinic (`demo --clients 5000`, fixed seed), then measures on a
copy of it, in one run:

- startup_ratio: launch to the main window's first paint (the client list's first page drawn,
  with its rows), over the same for a bare PySide6 window (QMainWindow with a label), both as
  fresh processes, alternated, medians;
- startup_ratio_large: the same on a 50,000-client clinic (~490,000 sessions), built once by
  `--large` (minutes) and kept in the user's cache folder, never in the checkout; null, with
  a note on stderr, when it is not built yet and `--large` is not given;
- search_p95_ms: `MainWindow.find(prefix)` plus the event loop turn that redraws the list,
  95th percentile over 200 prefixes of real names (1-4 letters, folded or as written);
- open_client_ms: `MainWindow.show_client(id)` for a client with 20 sessions until the card
  and history are shown, median;
- save_session_ms: `Repository.save_draft` of a new session with 5 areas, 2 serums and
  3 reactions, median of 20 distinct sessions;
- summary_pdf_ms, course_pdf_ms: a session's one-page summary and the course record of
  the 20-session client, in-process, median after a warm-up;
- rss_mb: peak resident memory of a fresh process that opens the window on the database,
  shows that client and exports both PDFs the way the window does (worker thread, reader);
  on Linux its own VmHWM (getrusage would include the bench's own peak, inherited);
- recall_ms, due_ms: the whole command as a fresh process, start to exit with its output
  read, `python -m needledesk --db DB lots recall LOT` (the catalogue lot the demo's
  sessions used most) and `python -m needledesk --db DB due`, medians after a warm-up;
- startup_ratio_photos: startup_ratio on a copy of the clinic holding 20,000 photos
  (`--photos`): small synthetic JPEGs, a front and two 45° views for each of the latest
  sessions, written as an exchange import writes them (`bulk_photos`: rows, seals, audit,
  a photo consent per client; `check` passes on it);
- photo_import_ms: `Repository.add_photo` of one 12-megapixel phone JPEG (4000 x 3000, EXIF
  orientation 6 and GPS: decoded, turned, stripped, encoded again) with its thumbnail made,
  into a session of the 20-session client of that copy, median of 7 distinct photos after
  a warm-up; the note gives the upright case (orientation 1: copied without decoding);
- compare_open_ms: the comparison view (`ui.compare_view.CompareDialog`) of that client's
  first and latest front photos (two of those 12-megapixel photos), from making the dialog
  to the first paint showing both decoded (its `ready`), median of 9 after a warm-up; null
  with a note when the build has no comparison view.

With `--server postgresql://…` the same figures are taken on the clinic server instead: a
database of the bench's own is made there (the role needs CREATEDB), filled with the demo
clinic as `demo` fills a file, measured (the window and the commands on the server), and
dropped after; a figure this build cannot take there is null with the reason. It adds

- rooms_save_p95_ms: four processes (spawned, each its own connection and client) saving
  sessions at once for `--rooms-seconds` (10 s): a new draft (`expected=0`) and that draft
  again with its version (`expected=`), as the editor saves; the 95th percentile of one
  save over all rooms.

The cached database is never written: every figure is taken on a copy in a temporary folder
(where the 20-session client is topped up if the demo has none). Child processes keep their
bytecode in the cache folder (PYTHONPYCACHEPREFIX, even under PYTHONDONTWRITEBYTECODE), as an
installed program has its .pyc files; an unmeasured first run fills it. Progress goes to
stderr; the table (or with `--json` one JSON object of exactly the thirteen figures, the keys
of BUDGETS) to stdout.
Timing is not part of the test suite; `tests/test_bench.py` only checks that this runs on a
tiny clinic.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

#: Figure -> (budget, unit). Every figure is "lower is better".
BUDGETS: dict[str, tuple[float, str]] = {
    "startup_ratio": (1.5, "×"),
    "startup_ratio_large": (1.5, "×"),
    "search_p95_ms": (20.0, "ms"),
    "open_client_ms": (50.0, "ms"),
    "save_session_ms": (20.0, "ms"),
    "summary_pdf_ms": (100.0, "ms"),
    "course_pdf_ms": (150.0, "ms"),
    "rss_mb": (200.0, "MB"),
    "recall_ms": (1000.0, "ms"),
    "due_ms": (1000.0, "ms"),
    "startup_ratio_photos": (1.5, "×"),
    "photo_import_ms": (300.0, "ms"),
    "compare_open_ms": (100.0, "ms"),
}
#: With --server: the same figures, plus one save's p95 while ROOMS rooms save at once.
SERVER_BUDGETS: dict[str, tuple[float, str]] = {**BUDGETS, "rooms_save_p95_ms": (50.0, "ms")}
ROOMS = 4
ROOMS_SECONDS = 10.0
DEFAULT_CLIENTS = 5000
LARGE_CLIENTS = 50_000
DEFAULT_SEED = 1
HISTORY_SESSIONS = 20
SEARCH_PREFIXES = 200
SAVES = 20
PDF_RUNS = 7
OPEN_RUNS = 9
COMMAND_RUNS = 5
CHILD_TIMEOUT_S = 120
#: Photo records added in bulk to the copy startup_ratio_photos is taken on (`--photos`).
CLINIC_PHOTOS = 20_000
#: Their size: small synthetic JPEGs (the count is what is measured, not the pixels).
BULK_PHOTO_SIZE = (64, 48)
BULK_VIEWS = ("front", "left_45", "right_45")
#: A phone's photo as shown (3000 x 4000); stored turned (4000 x 3000, EXIF orientation 6).
PHONE_PHOTO_SIZE = (3000, 4000)
PHOTO_IMPORTS = 7
COMPARE_RUNS = 9
BENCH_AUTHOR = "benchmark"
PAINTED = "painted"
READY = "ready"

# --- the child processes ----------------------------------------------------------------
# Both start-up children print PAINTED one event-loop turn after the window's first Paint
# event (so the whole first paint pass, children included, is done), then leave at once.

_FIRST_PAINT = """
import os, time
from PySide6.QtCore import QEvent, QObject, QTimer

class _FirstPaint(QObject):
    def __init__(self, parent, ready=None):
        super().__init__(parent)
        self.ready = ready

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            QTimer.singleShot(0, self.report)
        return False

    def report(self):
        print("painted", flush=True)
        if self.ready is None:
            os._exit(0)
        self.poll = QTimer(self)
        self.poll.timeout.connect(self.wait_ready)
        self.poll.start(1)

    def wait_ready(self):
        if self.ready():
            print("ready", flush=True)
            os._exit(0)

def watch_first_paint(window, ready=None):
    watcher = _FirstPaint(window, ready)
    window.installEventFilter(watcher)
    return watcher
"""

BARE_CHILD = _FIRST_PAINT + """
import sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("Hello"))
window.resize(1200, 760)
watcher = watch_first_paint(window)
window.show()
app.exec()
"""

# The window on a file, or (`--server`) on the clinic server at a postgresql:// address.
_OPEN_WINDOW = """
def open_window(where, state):
    if where.startswith("postgresql:"):
        import sys
        from needledesk.ui.app import window_on_server

        def unreachable(problem):
            sys.exit(f"the clinic server cannot be opened: {problem}")

        window = window_on_server(where, state, ask=lambda address: None,
                                  when_unreachable=unreachable)
        if window is None or isinstance(window, str):
            sys.exit("the clinic server cannot be opened")
        return window
    from needledesk.ui.app import open_main_window

    return open_main_window(where, state)
"""

NEEDLEDESK_CHILD = _FIRST_PAINT + _OPEN_WINDOW + """
import sys
from PySide6.QtCore import QSettings
from needledesk.ui.app import application

app = application()
window = open_window(sys.argv[1], QSettings(sys.argv[2], QSettings.Format.IniFormat))
if window.client_model.rowCount() == 0:   # first paint means the list drawn with its rows
    sys.exit("the client list has no rows to paint")
# "ready": the records loaded after the first paint (the card, search, writes)
watcher = watch_first_paint(window, ready=lambda: window.attached)
window.show()
app.exec()
"""

RSS_CHILD = _OPEN_WINDOW + """
import json, sys, time
from PySide6.QtCore import QSettings
from needledesk.ui.app import application

def peak_bytes():
    # Linux: this process's own high-water mark. getrusage's ru_maxrss is carried over
    # from the parent through fork and exec, so after the bench built a big clinic in its
    # own process the child reported the parent's peak (1.3 GB once).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows: the peak working set
        import ctypes
        from ctypes import wintypes

        class Counters(ctypes.Structure):
            _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD)] + [
                (name, ctypes.c_size_t) for name in (
                    "PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage",
                    "QuotaPagedPoolUsage", "QuotaPeakNonPagedPoolUsage",
                    "QuotaNonPagedPoolUsage", "PagefileUsage", "PeakPagefileUsage")]

        counters = Counters()
        counters.cb = ctypes.sizeof(counters)
        process = ctypes.windll.kernel32.GetCurrentProcess
        process.restype = wintypes.HANDLE
        info = ctypes.windll.psapi.GetProcessMemoryInfo
        info.argtypes = [wintypes.HANDLE, ctypes.POINTER(Counters), wintypes.DWORD]
        info(process(), ctypes.byref(counters), counters.cb)
        return counters.PeakWorkingSetSize
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024

db, ini, client_id, session_id, out = sys.argv[1:6]
app = application()
window = open_window(db, QSettings(ini, QSettings.Format.IniFormat))
window.show()
app.processEvents()
window.finish_loading()   # the records load right after the first paint
window.show_client(client_id)
app.processEvents()

# Exactly what "Export record…" and the session's export do, minus the file dialog.
from needledesk.reports.build import course_record_pdf, session_summary_pdf
from needledesk.ui.printing import build_off_thread

made = {}

def export(name, make):
    def save(data):
        with open(f"{out}-{name}.pdf", "wb") as file:
            file.write(data)
        made[name] = len(data)
    build_off_thread(window, window.repo, make, save, f"Exporting the {name}")

export("summary", lambda reader: session_summary_pdf(reader, session_id))
export("course", lambda reader: course_record_pdf(reader, client_id))
deadline = time.monotonic() + 120
while len(made) < 2 and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
print(json.dumps({"peak_bytes": peak_bytes(), "pdf_bytes": made}), flush=True)
"""


# --- the cached demo clinic -------------------------------------------------------------


def default_cache_dir() -> Path:
    """`bench-cache/` at the root of a source checkout, else the user's cache folder."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "needledesk").is_dir():
        return root / "bench-cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("NeedleDesk", appauthor=False)) / "bench"


def large_cache_dir() -> Path:
    """Where the 50,000-client clinic is kept: the user's cache folder, outside any checkout
    (and CI), since it takes minutes to build and about a gigabyte."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("NeedleDesk", appauthor=False)) / "bench"


def cached_path(cache_dir: Path, clients: int, seed: int) -> Path | None:
    """The complete cached build of (clients, seed), or None."""
    path = cache_dir / cache_name(clients, seed)
    wal = path.with_name(path.name + "-wal")
    return path if path.is_file() and not wal.exists() else None


def cache_name(clients: int, seed: int) -> str:
    """Changes with the schema and with the demo generator, so a stale file is never used."""
    from needledesk import demo, demo_data
    from needledesk.store.schema import schema_version

    source = Path(demo.__file__).read_bytes() + Path(demo_data.__file__).read_bytes()
    digest = hashlib.sha256(source + str(demo.DEMO_AS_OF).encode()).hexdigest()[:10]
    return f"demo-{clients}-seed{seed}-schema{schema_version()}-{digest}.db"


def cached_demo(cache_dir: Path, clients: int, seed: int) -> Path:
    """The demo database for (clients, seed), built on first use (into a temporary name,
    renamed when complete, so an interrupted build is never taken for a cache)."""
    path = cache_dir / cache_name(clients, seed)
    if cached_path(cache_dir, clients, seed) is not None:
        return path
    from needledesk.demo import fill
    from needledesk.store.database import companions, open_database
    from needledesk.store.repository import Repository

    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.db")
    for leftover in companions(partial) + companions(path):
        leftover.unlink(missing_ok=True)
    _say(f"building the benchmark clinic ({clients:,} clients, seed {seed}) in {path} "
         "(once)…")
    started = time.perf_counter()
    db = open_database(partial)
    try:
        fill(Repository(db), clients=clients, seed=seed)
    finally:
        db.close()   # the last connection closing folds the WAL back into the file
    os.replace(partial, path)
    for stale in cache_dir.glob(f"demo-{clients}-seed{seed}-*.db"):
        if stale != path:   # an older schema's or generator's build of the same clinic
            stale.unlink(missing_ok=True)
    _say(f"  built in {time.perf_counter() - started:.1f} s")
    return path


# --- helpers ----------------------------------------------------------------------------


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _child_env(platform: str, pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = platform
    env.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")  # the offscreen plugin's chatter
    # Bytecode cached as on an installed PC (the warm-up run writes it), in the bench cache
    # rather than beside the sources; PYTHONDONTWRITEBYTECODE would make every start compile.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    # The children must import this very package (a source checkout run without install).
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def time_to_paint(script: str, args: list[str], env: dict[str, str],
                  log: Path) -> tuple[float, float | None]:
    """Seconds from just before the process is started to its PAINTED line, and to its
    READY line (None for a child that prints none: the bare window)."""
    painted = ready = None
    with open(log, "ab") as errors:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", script, *args], env=env,
                                 stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdout is not None   # stdout=PIPE
        try:
            for line in child.stdout:
                if line.strip() == PAINTED:
                    painted = time.perf_counter() - started
                elif line.strip() == READY:
                    ready = time.perf_counter() - started
            child.wait(timeout=CHILD_TIMEOUT_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
    if painted is None:
        raise RuntimeError(f"a start-up child exited ({child.returncode}) without painting; "
                           f"its errors: {log.read_text(errors='replace')[-2000:]}")
    return painted, ready


def startup_ratio(db: Path, env: dict[str, str], tmp: Path, runs: int,
                  platform: str) -> tuple[float, str]:
    """(NeedleDesk's launch-to-first-paint over a bare window's, how it was taken): fresh
    processes, alternated, after one unmeasured run of each, medians of `runs`. The note
    also gives NeedleDesk's launch-to-ready (the records loaded after the first paint:
    the card, search and writes work), which has no budget of its own."""
    log = tmp / "children.log"
    bare, nd, ready = [], [], []
    for run in range(runs + 1):
        b, _ = time_to_paint(BARE_CHILD, [], env, log)
        n, r = time_to_paint(NEEDLEDESK_CHILD,
                             [str(db), str(tmp / f"state-{db.stem}{run}.ini")], env, log)
        if run:
            bare.append(b)
            nd.append(n)
            if r is not None:
                ready.append(r)
    bare_ms, nd_ms = _ms(statistics.median(bare)), _ms(statistics.median(nd))
    ready_text = (f", ready {_ms(statistics.median(ready)):.0f} ms" if len(ready) == runs
                  else ", ready not reported")
    return nd_ms / bare_ms, (f"NeedleDesk {nd_ms:.0f} ms / bare {bare_ms:.0f} ms "
                             f"(NeedleDesk{ready_text}), medians of {runs} alternated runs, "
                             f"launch to first paint, QT_QPA_PLATFORM={platform}")


# --- the working copy -------------------------------------------------------------------


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _shifted(session, delta: timedelta, new_id: str):
    """`session` moved by `delta` as a new unsigned draft outside any course."""
    a = session.anaesthetic
    if a is not None:
        a = replace(a, applied_at=a.applied_at + delta,
                    removed_at=None if a.removed_at is None else a.removed_at + delta)
    return replace(
        session, id=new_id, course_id=None, started_at=session.started_at + delta,
        anaesthetic=a, areas=list(session.areas), serums=list(session.serums),
        reactions=list(session.reactions), combined_with=list(session.combined_with),
        aftercare=list(session.aftercare), signed_at=None, amendments=[],
        acknowledged_warnings=[replace(w, at=w.at + delta)
                               for w in session.acknowledged_warnings])


def client_with_history(repo, sessions: int, rng: random.Random) -> tuple[str, int]:
    """(id, sessions it had) of a client with exactly `sessions` sessions. When the demo has
    none (its courses make at most 15), the client with the most is topped up with earlier
    signed sessions like their first one. Only ever called on the working copy."""
    rows = repo.db.execute(   # (a subquery: the server orders by no output name in a sum)
        "SELECT client_id, n FROM (SELECT client_id, count(*) AS n FROM sessions "
        "GROUP BY client_id) AS counted "
        "ORDER BY (n = ?) DESC, (n < ?) DESC, n DESC, client_id LIMIT 1",
        [sessions, sessions]).fetchone()
    client_id, had = rows[0], rows[1]
    if had < sessions:
        first = repo.sessions(client_id)[0]
        for k in range(1, sessions - had + 1):
            draft = _shifted(first, timedelta(weeks=-7 * k), _new_id(rng))
            repo.save_draft(draft, by="benchmark")
            repo.sign_session(draft.id, at=draft.started_at + timedelta(minutes=45),
                              by="benchmark")
    return client_id, had


def history_client(repo, rng: random.Random) -> tuple[str, int, str]:
    """The client the card figures are taken on, topped up to HISTORY_SESSIONS sessions:
    (its id, how many sessions it had, its latest session's id)."""
    client_id, had = client_with_history(repo, HISTORY_SESSIONS, rng)
    latest = repo.latest_session(client_id)
    if latest is None:
        raise RuntimeError(f"the demo client {client_id} has no session")
    return client_id, had, latest.id


def _photo_consent(repo, client_id: str, signed_at: datetime, consent_id: str):
    """A photo consent signed on paper at `signed_at` allowing the record and showing the
    photos to the client, under the clinic's photo form (the shipped one when it has none
    stored: returned second, to be stored with it)."""
    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.model import Consent, ConsentKind, ConsentMethod

    form = repo.current_template(ConsentKind.PHOTO)
    new_form = None
    if form is None:
        form = new_form = default_template(ConsentKind.PHOTO)
    uses = {"photo_use_record", "photo_use_shown"}
    consent = Consent(
        client_id=client_id, kind=form.kind, signed_at=signed_at,
        method=ConsentMethod.ON_PAPER, practitioner="Mei Tanaka", title=form.title,
        body=form.body, statements=list(form.statements),
        answers={x.key: x.required or x.key in uses for x in form.statements},
        template_id=form.id, template_version=form.version, id=consent_id)
    return consent, new_form


def bulk_photos(repo, count: int, seed: int, *, spare: str | None = None
                ) -> tuple[int, int, int]:
    """Add `count` photo records to the clinic, fast, as an import from another NeedleDesk
    would: the latest signed sessions (but none of client `spare`'s) get a front, left 45°
    and right 45° photo each, every client concerned a photo consent on paper dated before
    its first photographed session, all written by `write_records` (rows, seals and audit
    rows in one transaction, exactly as an exchange import writes them, so `check` passes).
    The photos are small synthetic faces (`BULK_PHOTO_SIZE`), each file distinct; their
    files are written into the photo folder's layout directly, without an fsync each
    (20,000 fsyncs take a minute and measure nothing: the import then finds each file in
    place, checks its hash and keeps it). Returns (photos, sessions, clients)."""
    import io

    from needledesk.demo_photos import face_image
    from needledesk.domain.model import Photo, PhotoSource, PhotoView
    from needledesk.store.photo_files import FolderPhotoStore, digest

    rng = random.Random(f"needledesk bench photos {seed}")
    wanted = -(-count // len(BULK_VIEWS))
    rows = repo.db.execute(
        "SELECT id, client_id FROM sessions WHERE signed_at IS NOT NULL AND client_id != ? "
        "ORDER BY started_at DESC, id LIMIT ?", [spare or "", wanted]).fetchall()
    chosen: dict[str, set[str]] = {}
    for session_id, client_id in rows:
        chosen.setdefault(client_id, set()).add(session_id)
    faces = {(view, k): face_image(view, seed=k, size=BULK_PHOTO_SIZE)
             for view in BULK_VIEWS for k in range(16)}
    store = repo.photo_store
    files: dict[str, bytes] = {}
    records = []
    new_form = None
    made = 0
    for client_id, session_ids in chosen.items():
        record = next(repo.load_records(client_id))
        sessions = sorted((x for x in record.sessions if x.id in session_ids),
                          key=lambda x: x.started_at)
        consent, form = _photo_consent(repo, client_id,
                                       sessions[0].started_at - timedelta(minutes=40),
                                       _new_id(rng))
        if new_form is None and form is not None:
            new_form = form
        elif new_form is not None:   # every consent under the one form stored with them
            consent = replace(consent, template_id=new_form.id)
        record.consents.append(consent)
        face = rng.randrange(16)
        for session in sessions:
            for view in BULK_VIEWS:
                if made == count:
                    break
                picture = faces[(view, face)].copy()
                _number(picture, made)   # every file differs
                buffer = io.BytesIO()
                picture.save(buffer, "JPEG", quality=85)
                data = buffer.getvalue()
                sha = digest(data)
                if sha in files:
                    raise RuntimeError("two bulk photos came out the same")
                files[sha] = data
                taken = session.started_at - timedelta(minutes=30)
                record.photos.append(Photo(
                    client_id=client_id, session_id=session.id, view=PhotoView(view),
                    sha256=sha, original_sha256=sha, media_type="image/jpeg",
                    width=BULK_PHOTO_SIZE[0], height=BULK_PHOTO_SIZE[1], size=len(data),
                    added_at=taken, added_by=BENCH_AUTHOR, taken_at=taken,
                    source=PhotoSource.CAMERA, consent_id=consent.id, id=_new_id(rng)))
                made += 1
        records.append(record)
    if isinstance(store, FolderPhotoStore):
        for sha, data in files.items():
            target = store.path(sha)
            if not target.parent.is_dir():
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(target.parent, 0o700)
                os.chmod(store.root, 0o700)
            with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(data)
    repo.write_records(records, by=BENCH_AUTHOR, photo_data=files.__getitem__,
                       consent_templates=[new_form] if new_form is not None else [])
    return made, len(rows), len(chosen)


def _number(picture, number: int) -> None:
    """Write `number` into the picture's bottom rows as black and white bars, 16 bits to a
    strip of two rows (bold enough to survive JPEG's compression)."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(picture)
    width, height = picture.size
    bar = width // 16
    for bit in range(32):
        strip, place = divmod(bit, 16)
        top = height - 2 * (strip + 1)
        white = (number >> bit) & 1
        draw.rectangle((place * bar, top, place * bar + bar - 1, top + 1),
                       fill=(255, 255, 255) if white else (0, 0, 0))


def import_phone_photos(repo, client_id: str, seed: int
                        ) -> tuple[list[float], list[float], int]:
    """(seconds of each turned import, of each upright one, the JPEG's size in bytes):
    `repo.add_photo` of a 12-megapixel phone JPEG with its thumbnail, `PHOTO_IMPORTS` times
    each way after one unmeasured import. Turned: EXIF orientation 6 and a GPS position, so
    it is decoded, turned upright, stripped and encoded again; the first and the latest of
    the client's sessions get one as their front photo (what compare_open_ms opens). Upright:
    orientation 1, copied without decoding (the lossless path), as right 45° photos. The
    client gets a photo consent first (dated before its first session)."""
    from needledesk.demo_photos import face_photo
    from needledesk.domain.model import PhotoView

    sessions = repo.sessions(client_id)
    consent, form = _photo_consent(repo, client_id,
                                   sessions[0].started_at - timedelta(minutes=40),
                                   _new_id(random.Random(f"bench phone consent {seed}")))
    repo.add_consent(consent, by=BENCH_AUTHOR, template=form,
                     today=sessions[-1].started_at.date())
    face = 4242 + seed
    warm = (sessions[len(sessions) // 2], PhotoView.LEFT_45, 6, 99)
    turned = [(sessions[0], PhotoView.FRONT, 6, 1), (sessions[-1], PhotoView.FRONT, 6, 20)]
    turned += [(sessions[k], PhotoView.FRONT, 6, k + 1) for k in range(1, PHOTO_IMPORTS - 1)]
    upright = [(sessions[k], PhotoView.RIGHT_45, 1, k + 1) for k in range(PHOTO_IMPORTS)]
    plan = [warm, *turned, *upright]
    _say(f"  drawing {len(plan)} 12-megapixel photos…")
    files = [face_photo(str(view), session=number, seed=face, size=PHONE_PHOTO_SIZE,
                        orientation=orientation, taken=session.started_at)
             for session, view, orientation, number in plan]
    times = []
    for (session, view, _, _), data in zip(plan, files, strict=True):
        def add(session=session, view=view, data=data) -> None:
            added = repo.add_photo(session.id, data, view=view, by=BENCH_AUTHOR,
                                   name="IMG_0001.JPG")
            if not added.added:
                raise RuntimeError("a benchmark photo was taken for one already stored")
            repo.thumbnail(added.photo)
        times.append(_timed(add))
    return times[1:1 + len(turned)], times[1 + len(turned):], len(files[1])


def new_session(client_id: str, course_id: str | None, started_at: datetime,
                rng: random.Random):
    """A session of 5 areas, 2 serums and 3 reactions, like a busy face-and-neck visit."""
    from needledesk.domain.model import (
        Anaesthetic,
        Device,
        DeviceType,
        Fee,
        Reaction,
        Serum,
        Session,
        TreatedArea,
    )

    areas = [TreatedArea("forehead", 0.5, 3, "even erythema"),
             TreatedArea("cheeks", 1.5, 3, "pinpoint bleeding"),
             TreatedArea("chin", 1.0, 2, "pinpoint bleeding"),
             TreatedArea("jawline", 1.0, 2, "even erythema"),
             TreatedArea("neck", 0.5, 2, "even erythema", "Light passes over the platysma.")]
    return Session(
        client_id=client_id, started_at=started_at, practitioner="Mei Tanaka", areas=areas,
        id=_new_id(rng), course_id=course_id,
        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", "L2609A"),
        anaesthetic=Anaesthetic("LMX4", started_at - timedelta(minutes=40),
                                started_at - timedelta(minutes=5)),
        serums=[Serum("Hyaluronic acid 1%", "HA-2609C"), Serum("Growth factor serum",
                                                               "GF-2608A")],
        reactions=[Reaction("erythema", 2), Reaction("oedema", 1),
                   Reaction("pinpoint bleeding", 1)],
        aftercare=["SPF 50 sunscreen", "Gentle cleanser"],
        fee=Fee(Decimal("390.00"), "USD"), notes="Benchmark session.")


def search_prefixes(repo, count: int, rng: random.Random) -> list[str]:
    """`count` prefixes (1-4 letters) of the clinic's first and last names, as a person
    types them: half folded (`lo`, `ngu`), half as written (`Ló`, `Ngu`)."""
    from needledesk.domain.text import fold

    names = [(r[0], r[1]) for r in repo.db.execute(
        "SELECT first_name, last_name FROM clients ORDER BY id")]
    prefixes: list[str] = []
    while len(prefixes) < count:
        first, last = names[rng.randrange(len(names))]
        words = (first if rng.random() < 0.5 else last).split()
        word = "".join(ch for ch in words[rng.randrange(len(words))] if ch.isalpha())
        if not word:
            continue
        prefix = word[:rng.randint(1, 4)]
        prefixes.append(fold(prefix) if rng.random() < 0.5 else prefix)
    return prefixes


def most_recalled_lot(db_path: Path) -> str:
    """The catalogue lot the most sessions used (the demo's sessions pick theirs from the
    catalogue); the most used serum lot in a clinic with no catalogue lot in use."""
    conn = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return _most_recalled(conn)
    finally:
        conn.close()


def _most_recalled(conn) -> str:
    """most_recalled_lot's query on `conn` (the file's sqlite3 connection or the server's)."""
    row = conn.execute(
        "SELECT lot, count(*) AS n FROM ("
        " SELECT lot FROM serums WHERE lot_id IS NOT NULL UNION ALL"
        " SELECT cartridge_lot FROM sessions WHERE cartridge_lot_id IS NOT NULL UNION ALL"
        " SELECT anaesthetic_lot FROM sessions WHERE anaesthetic_lot_id IS NOT NULL) AS used"
        " GROUP BY lot ORDER BY n DESC, lot LIMIT 1").fetchone()
    if row is None:
        row = conn.execute("SELECT lot, count(*) AS n FROM serums WHERE lot IS NOT NULL "
                           "GROUP BY lot ORDER BY n DESC, lot LIMIT 1").fetchone()
    if row is None:
        raise RuntimeError("the demo clinic has no session with a lot to recall")
    return str(row[0])


def time_command(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, list[str]]:
    """(the median seconds of `python -m needledesk ARGV` as a fresh process, start to exit
    with its whole output read, after one unmeasured run; that output's lines)."""
    times = []
    lines: list[str] = []
    for run in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "needledesk", *argv], env=env,
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"`needledesk {' '.join(argv)}` failed ({done.returncode}): "
                               f"{done.stderr[-2000:]}")
        lines = done.stdout.strip().splitlines()
        if run:
            times.append(elapsed)
    return statistics.median(times), lines


# --- the run ----------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> tuple[dict[str, float | None], dict[str, str]]:
    """(the figures of BUDGETS, notes on how each was taken); startup_ratio_large is None
    when the large clinic is not built and `--large` was not given, compare_open_ms when the
    build has no comparison view."""
    cache = cached_demo(args.cache, args.clients, args.seed)
    args.large_cache = args.large_cache or large_cache_dir()
    args.large_path = (cached_demo(args.large_cache, LARGE_CLIENTS, args.seed) if args.large
                       else cached_path(args.large_cache, LARGE_CLIENTS, args.seed))
    rng = random.Random(args.seed)
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="needledesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "clinic.db"
        shutil.copyfile(cache, work)
        os.chmod(work, 0o600)

        from needledesk.store.database import open_database
        from needledesk.store.repository import Repository

        db = open_database(work)
        repo = Repository(db)
        client_id, had, session_id = history_client(repo, rng)
        clients = repo.count_clients()
        sessions = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
        notes["clinic"] = (f"{clients:,} clients, {sessions:,} sessions (seed {args.seed}); "
                           f"the history client had {had} sessions"
                           + (f", topped up to {HISTORY_SESSIONS}" if had < HISTORY_SESSIONS
                              else ""))
        db.close()

        # A copy with photos: CLINIC_PHOTOS records in bulk (as an import writes them), then
        # in-process the phone photos and the comparison of the 20-session client.
        photo_db = tmp / "photos.db"
        shutil.copyfile(work, photo_db)
        os.chmod(photo_db, 0o600)
        _say(f"photos: {args.photos:,} photo records added in bulk to a copy of the clinic…")
        started = time.perf_counter()
        db = open_database(photo_db)
        try:
            made, photo_sessions, photo_clients = bulk_photos(Repository(db), args.photos,
                                                              args.seed, spare=client_id)
        finally:
            db.close()
        notes["photos"] = (f"{made:,} photos of {photo_sessions:,} sessions of "
                           f"{photo_clients:,} clients, added in "
                           f"{time.perf_counter() - started:.0f} s")
        _say(f"  {notes['photos']}")

        figures: dict[str, float | None] = {}
        env = _child_env(args.platform, args.cache / "pycache")

        # Start-up first, while this process sits idle: bare and NeedleDesk alternate, after
        # one unmeasured run of each (bytecode and disk caches warm, as on a used PC).
        _say(f"start-up: {args.runs} runs each of a bare window and NeedleDesk…")
        figures["startup_ratio"], notes["startup_ratio"] = startup_ratio(
            work, env, tmp, args.runs, args.platform)
        _say(f"start-up with {made:,} photos in the clinic: {args.runs} runs each…")
        figures["startup_ratio_photos"], how = startup_ratio(photo_db, env, tmp, args.runs,
                                                             args.platform)
        notes["startup_ratio_photos"] = f"{made:,} photos: {how}"
        large = args.large_path
        if large is None:
            figures["startup_ratio_large"] = None
            notes["startup_ratio_large"] = (
                f"skipped: the {LARGE_CLIENTS:,}-client clinic is not built yet (add --large "
                f"to build it once, minutes, into {args.large_cache})")
            _say(f"start-up, large clinic: {notes['startup_ratio_large']}")
        else:
            _say(f"start-up on the {LARGE_CLIENTS:,}-client clinic: {args.runs} runs each…")
            big = tmp / "large.db"
            shutil.copyfile(large, big)
            os.chmod(big, 0o600)
            figures["startup_ratio_large"], how = startup_ratio(big, env, tmp, args.runs,
                                                                args.platform)
            conn = sqlite3.connect(big.resolve().as_uri() + "?mode=ro", uri=True)
            size = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("clients", "sessions")]
            conn.close()
            notes["startup_ratio_large"] = (f"{size[0]:,} clients, {size[1]:,} sessions, "
                                            f"{big.stat().st_size / 2**20:.0f} MB: {how}")
            big.unlink()

        _say("peak memory: a fresh process opens the window and exports both PDFs…")
        figures["rss_mb"], notes["rss_mb"] = rss_of(str(work), tmp, env, client_id,
                                                    session_id, tag="")

        lot = most_recalled_lot(work)
        _say(f"commands: `needledesk lots recall {lot}` and `needledesk due`, "
             f"{COMMAND_RUNS} runs each…")
        seconds, said = time_command(["--db", str(work), "lots", "recall", lot], env,
                                     COMMAND_RUNS)
        count = next((line for line in reversed(said) if line.endswith(("client", "clients"))),
                     said[-1] if said else "")
        figures["recall_ms"] = _ms(seconds)
        notes["recall_ms"] = (f"median of {COMMAND_RUNS} fresh processes after a warm-up, "
                              f"`needledesk lots recall {lot}`: {count}")
        seconds, said = time_command(["--db", str(work), "due"], env, COMMAND_RUNS)
        figures["due_ms"] = _ms(seconds)
        notes["due_ms"] = (f"median of {COMMAND_RUNS} fresh processes after a warm-up, "
                           f"`needledesk due`: {said[-1] if said else ''}")

        # The rest in this process, on the window as a person would use it.
        os.environ["QT_QPA_PLATFORM"] = args.platform   # before the QApplication exists
        os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
        from PySide6.QtCore import QSettings

        from needledesk.ui.app import application, open_main_window

        app = application()

        # The photos first, before the main window exists: a window left open for a minute
        # would take its daily backup in the middle of the measurements.
        _say(f"photo import: {PHOTO_IMPORTS} 12-megapixel JPEGs each way through "
             "Repository.add_photo…")
        db = open_database(photo_db)
        repo = Repository(db)
        turned, upright, jpeg_bytes = import_phone_photos(repo, client_id, args.seed)
        figures["photo_import_ms"] = _ms(statistics.median(turned))
        notes["photo_import_ms"] = (
            f"median of {PHOTO_IMPORTS} after a warm-up: a {jpeg_bytes / 2**20:.1f} MB "
            "4000 x 3000 JPEG with EXIF orientation 6 and GPS (decoded, turned, stripped, encoded, "
            "stored, thumbnail made); upright (orientation 1, copied without decoding): "
            f"median {_ms(statistics.median(upright)):.0f} ms")

        _say(f"comparison view: {COMPARE_RUNS} openings of the first and latest front "
             "photos (12 megapixels)…")
        opened, how = compare_open(app, repo, client_id, COMPARE_RUNS)
        figures["compare_open_ms"] = None if opened is None else _ms(opened)
        notes["compare_open_ms"] = how
        if opened is None:
            _say(f"  {how}")
        db.close()

        window = open_main_window(work, QSettings(str(tmp / "in-process.ini"),
                                                  QSettings.Format.IniFormat))
        window.show()
        app.processEvents()
        window.finish_loading()

        window_figures(app, window, client_id, rng, figures, notes)
        window.hide()   # not close(): closing takes the on-close backup
        window.repo.db.close()
        app.processEvents()

        db = open_database(work)
        record_figures(Repository(db), client_id, session_id, args.seed,
                       "synchronous=FULL", figures, notes)
        db.close()

    return {key: figures[key] for key in BUDGETS}, notes


def record_figures(repo, client_id: str, session_id: str, seed: int, how: str,
                   figures: dict[str, float | None], notes: dict[str, str]) -> None:
    """summary_pdf_ms, course_pdf_ms (in-process) and save_session_ms on `repo`."""
    from needledesk.demo import DEMO_AS_OF

    _say("PDFs: summary and course record, in-process…")
    from needledesk.reports.build import course_record_pdf, session_summary_pdf

    for name, make in (
            ("summary_pdf_ms", lambda: session_summary_pdf(repo, session_id,
                                                           today=DEMO_AS_OF)),
            ("course_pdf_ms", lambda: course_record_pdf(repo, client_id,
                                                        today=DEMO_AS_OF))):
        pdf_size = len(make())   # warm-up: reportlab imported, fonts loaded
        runs = [_timed(make) for _ in range(PDF_RUNS)]
        figures[name] = _ms(statistics.median(runs))
        notes[name] = f"median of {PDF_RUNS} after a warm-up, {pdf_size / 1024:.0f} KB"

    _say(f"save: {SAVES} new sessions of 5 areas, 2 serums, 3 reactions…")
    course = repo.courses(client_id)
    course_id = course[-1].id if course else None
    start = datetime.combine(DEMO_AS_OF, datetime.min.time()) + timedelta(hours=10)
    # Their ids from a stream of their own: `rng` is seeded as the demo's generator is,
    # so its ids could be a demo session's (a signed one, which a draft may not replace).
    ids = random.Random(f"needledesk bench drafts {seed}")
    drafts = [new_session(client_id, course_id, start + timedelta(days=k), ids)
              for k in range(SAVES + 2)]
    saves = [_timed(functools.partial(repo.save_draft, s, by="benchmark")) for s in drafts]
    figures["save_session_ms"] = _ms(statistics.median(saves[2:]))
    notes["save_session_ms"] = (f"median of {SAVES} after 2 warm-ups, one transaction "
                                f"each ({how})")


def window_figures(app, window, client_id: str, rng: random.Random,
                   figures: dict[str, float | None], notes: dict[str, str]) -> None:
    """search_p95_ms and open_client_ms on the window as a person would use it."""
    _say(f"search: {SEARCH_PREFIXES} prefixes through MainWindow.find…")
    prefixes = search_prefixes(window.repo, SEARCH_PREFIXES, rng)

    def find(prefix: str) -> None:
        window.find(prefix)
        app.processEvents()

    for prefix in prefixes[:10]:
        find(prefix)
    found = []
    times = []
    for prefix in prefixes:
        times.append(_timed(functools.partial(find, prefix)))
        found.append(window.client_model.total())
    find("")
    figures["search_p95_ms"] = _ms(percentile(times, 95))
    notes["search_p95_ms"] = (f"median {_ms(statistics.median(times)):.1f} ms, max "
                              f"{_ms(max(times)):.1f} ms; matches per prefix: median "
                              f"{statistics.median(found):.0f}, max {max(found):,}")

    _say("open client: show_client until the card and history are shown…")
    other = window.client_model.client(0).id
    if other == client_id:
        other = window.client_model.client(1).id if window.client_model.total() > 1 \
            else None

    def open_client() -> None:
        window.show_client(client_id)
        app.processEvents()
        while window.history_model.rowCount() == 0:
            app.processEvents()

    opens = []
    for run in range(OPEN_RUNS + 1):
        window.show_client(other)
        app.processEvents()
        elapsed = _timed(open_client)
        if run:
            opens.append(elapsed)
    rows = window.history_model.rowCount()
    if rows != HISTORY_SESSIONS:
        raise RuntimeError(f"the history shows {rows} sessions, not {HISTORY_SESSIONS}")
    figures["open_client_ms"] = _ms(statistics.median(opens))
    notes["open_client_ms"] = f"median of {OPEN_RUNS}, {rows} rows in the history"


def compare_open(app, repo, client_id: str, runs: int) -> tuple[float | None, str]:
    """(median seconds, how) of opening the comparison view of the client's front photos
    (`needledesk.ui.compare_view.CompareDialog`): from making the dialog to its `ready`, the
    first paint showing both photos decoded, after one unmeasured opening; (None, why) when
    this build has no comparison view."""
    try:
        from needledesk.ui.compare_view import CompareDialog
    except ImportError:
        return None, "skipped: this build has no comparison view (needledesk.ui.compare_view)"
    from needledesk.domain.model import PhotoView

    times = []
    for run in range(runs + 1):
        started = time.perf_counter()
        dialog = CompareDialog(repo, client_id, view=PhotoView.FRONT)
        dialog.show()
        came = dialog.wait_ready(CHILD_TIMEOUT_S * 1000)
        elapsed = time.perf_counter() - started
        pane = getattr(dialog, "pane", None)
        shown = pane is not None and dialog.stack.currentWidget() is pane
        dialog.close()
        app.processEvents()
        if not came or not shown:
            raise RuntimeError("the comparison view did not show the first and latest front "
                               "photos")
        if run:
            times.append(elapsed)
    return statistics.median(times), (f"median of {runs} after a warm-up: made and shown "
                                      "until both 12-megapixel photos are decoded and "
                                      "painted (its `ready`)")


# --- the clinic server (--server) -----------------------------------------------------------


def _database_url(url: str, database: str) -> str:
    """`url` naming another database on the same server."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def _server_admin(url: str):
    """A plain psycopg connection to the server at `url` (to make and drop the bench's own
    database; the password, if any, from PGPASSWORD or ~/.pgpass as for psql)."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def room_saves(url: str, client_id: str, number: int, seconds: float, barrier,
               results) -> None:
    """One treatment room for rooms_save_p95_ms: its own connection, its own client; saves
    for `seconds` once all rooms are ready, each save timed: a new session of 5 areas,
    2 serums and 3 reactions (`expected=0`), and every other time that draft again with
    its notes changed (`expected=` its version, as the editor saves). Puts (name, seconds
    of each save, refused saves, error) on `results`."""
    name = f"Room {number}"
    times: list[float] = []
    refused = 0
    try:
        from needledesk.errors import ChangedElsewhereError
        from needledesk.server_login import open_server_repository

        repo = open_server_repository(url, migrate_schema=False)
        rng = random.Random(f"needledesk bench room {number}")
        start = datetime(2026, 11, 2, 8) + timedelta(days=number)
        barrier.wait(timeout=CHILD_TIMEOUT_S)
        deadline = time.perf_counter() + seconds
        k = 0
        while time.perf_counter() < deadline:
            k += 1
            draft = new_session(client_id, None, start + timedelta(minutes=k), rng)
            began = time.perf_counter()
            repo.save_draft(draft, by=name, expected=0)
            times.append(time.perf_counter() - began)
            version = repo.record_version("session", draft.id)
            changed = replace(draft, notes=f"{name}: changed after saving")
            began = time.perf_counter()
            try:
                repo.save_draft(changed, by=name, expected=version.seq if version else 0)
            except ChangedElsewhereError:
                refused += 1
            times.append(time.perf_counter() - began)
        repo.db.close()
        results.put((name, times, refused, None))
    except Exception as exc:  # reported by the bench, which then fails plainly
        barrier.abort()
        results.put((name, times, refused, f"{type(exc).__name__}: {exc}"))


def rooms_save(url: str, client_ids: list[str], seconds: float) -> tuple[float, str]:
    """(p95 seconds of one save with ROOMS rooms saving at once, how): one process per room
    (spawned: each its own interpreter and connection), `room_saves` for `seconds`."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(client_ids))
    results = context.Queue()
    rooms = [context.Process(target=room_saves,
                             args=(url, client_id, n, seconds, barrier, results))
             for n, client_id in enumerate(client_ids, 1)]
    for process in rooms:
        process.start()
    done = [results.get(timeout=seconds + CHILD_TIMEOUT_S) for _ in rooms]
    for process in rooms:
        process.join(timeout=CHILD_TIMEOUT_S)
    failed = [f"{name}: {error}" for name, _, _, error in done if error]
    if failed:
        raise RuntimeError("a room failed: " + "; ".join(failed))
    times = [t for _, room, _, _ in done for t in room]
    refused = sum(r for _, _, r, _ in done)
    return percentile(times, 95), (
        f"{len(rooms)} processes saving at once for {seconds:g} s: {len(times):,} saves "
        f"({len(times) / seconds:.0f}/s), median {_ms(statistics.median(times)):.1f} ms, "
        f"max {_ms(max(times)):.0f} ms; {refused} refused (none expected)")


def _server_facts(admin) -> str:
    version = admin.execute("SHOW server_version").fetchone()[0]
    sync = admin.execute("SHOW synchronous_commit").fetchone()[0]
    fsync = admin.execute("SHOW fsync").fetchone()[0]
    return f"PostgreSQL {version.split()[0]}, synchronous_commit={sync}, fsync={fsync}"


def measure_server(args: argparse.Namespace) -> tuple[dict[str, float | None],
                                                      dict[str, str]]:
    """The figures of SERVER_BUDGETS on the clinic server at `args.server`: a database of
    its own made there (dropped after), filled with the demo clinic as `demo` fills one,
    then measured as the file is (the window and the commands on the server), plus
    rooms_save_p95_ms. A figure that cannot be taken on this build is null, with why."""
    from needledesk.demo import fill
    from needledesk.server_login import open_server_repository

    admin = _server_admin(args.server)
    name = f"needledesk_bench_{os.getpid()}"
    url = _database_url(args.server, name)
    figures: dict[str, float | None] = dict.fromkeys(SERVER_BUDGETS)
    notes: dict[str, str] = {}
    admin.execute(f'CREATE DATABASE "{name}"')
    rng = random.Random(args.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="needledesk-bench-") as tmp_name:
            tmp = Path(tmp_name)
            _say(f"filling the demo clinic ({args.clients:,} clients, seed {args.seed}) on "
                 f"the server, database {name}…")
            started = time.perf_counter()
            repo = open_server_repository(url)
            fill(repo, clients=args.clients, seed=args.seed)
            client_id, had, session_id = history_client(repo, rng)
            clients = repo.count_clients()
            sessions = repo.db.execute("SELECT count(*) FROM sessions").fetchone()[0]
            notes["clinic"] = (f"{clients:,} clients, {sessions:,} sessions (seed "
                               f"{args.seed}) on {_server_facts(admin)}, filled in "
                               f"{time.perf_counter() - started:.0f} s; the history client "
                               f"had {had} sessions" + (f", topped up to {HISTORY_SESSIONS}"
                                                        if had < HISTORY_SESSIONS else ""))
            _say(f"  {notes['clinic']}")
            lot = _most_recalled(repo.db)
            room_clients = [r[0] for r in repo.db.execute(
                "SELECT id FROM clients WHERE id <> ? ORDER BY id LIMIT ?",
                [client_id, ROOMS])]
            repo.db.close()

            env = _child_env(args.platform, args.cache / "pycache")
            try:
                _say(f"start-up on the server: {args.runs} runs each…")
                figures["startup_ratio"], notes["startup_ratio"] = startup_ratio_on(
                    url, "server", env, tmp, args.runs, args.platform)
            except RuntimeError as exc:
                notes["startup_ratio"] = f"not taken: {_first_line(exc)}"
                _say(f"  {notes['startup_ratio']}")
            try:
                _say("peak memory: a fresh process opens the window on the server…")
                figures["rss_mb"], notes["rss_mb"] = rss_of(url, tmp, env, client_id,
                                                            session_id)
            except RuntimeError as exc:
                notes["rss_mb"] = f"not taken: {_first_line(exc)}"
                _say(f"  {notes['rss_mb']}")

            _say(f"commands on the server: `lots recall {lot}` and `due`…")
            seconds, said = time_command(["--server", url, "lots", "recall", lot], env,
                                         COMMAND_RUNS)
            figures["recall_ms"] = _ms(seconds)
            notes["recall_ms"] = (f"median of {COMMAND_RUNS} fresh processes after a warm-up, "
                                  f"`needledesk --server URL lots recall {lot}`: "
                                  f"{said[-1] if said else ''}")
            seconds, said = time_command(["--server", url, "due"], env, COMMAND_RUNS)
            figures["due_ms"] = _ms(seconds)
            notes["due_ms"] = (f"median of {COMMAND_RUNS} fresh processes after a warm-up, "
                               f"`needledesk --server URL due`: {said[-1] if said else ''}")

            os.environ["QT_QPA_PLATFORM"] = args.platform
            os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
            from PySide6.QtCore import QSettings

            from needledesk.ui.app import application

            app = application()
            window = None
            try:
                from needledesk.ui.app import window_on_server

                window = window_on_server(url, QSettings(str(tmp / "in-process.ini"),
                                                         QSettings.Format.IniFormat),
                                          ask=lambda address: None,
                                          when_unreachable=lambda problem: None)
            except ImportError:
                notes["search_p95_ms"] = notes["open_client_ms"] = (
                    "not taken: this build's window does not open on a clinic server")
            if window is not None and not isinstance(window, str):
                window.show()
                app.processEvents()
                window.finish_loading()
                window_figures(app, window, client_id, rng, figures, notes)
                window.hide()
                window.repo.db.close()
                app.processEvents()

            repo = open_server_repository(url)
            record_figures(repo, client_id, session_id, args.seed,
                           "on the server, over its Unix socket or loopback", figures, notes)
            repo.db.close()

            _say(f"rooms: {ROOMS} processes saving sessions at once for "
                 f"{args.rooms_seconds:g} s…")
            p95, notes["rooms_save_p95_ms"] = rooms_save(url, room_clients,
                                                         args.rooms_seconds)
            figures["rooms_save_p95_ms"] = _ms(p95)
            _say(f"  {notes['rooms_save_p95_ms']}")

            _say(f"photos: {args.photos:,} photo records in bulk on the server…")
            try:
                photo_figures(url, app, client_id, args, env, tmp, figures, notes)
            except Exception as exc:   # a build whose server keeps no photos yet
                for key in ("startup_ratio_photos", "photo_import_ms", "compare_open_ms"):
                    if figures.get(key) is None:
                        notes[key] = f"not taken: {_first_line(exc)}"
                _say(f"  photos: not taken on the server: {_first_line(exc)}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return {key: figures.get(key) for key in SERVER_BUDGETS}, notes


def photo_figures(url: str, app, client_id: str, args: argparse.Namespace,
                  env: dict[str, str], tmp: Path, figures: dict[str, float | None],
                  notes: dict[str, str]) -> None:
    """startup_ratio_photos, photo_import_ms and compare_open_ms on the server's clinic with
    `args.photos` photos added in bulk."""
    from needledesk.server_login import open_server_repository

    repo = open_server_repository(url)
    try:
        started = time.perf_counter()
        made, photo_sessions, photo_clients = bulk_photos(repo, args.photos, args.seed,
                                                          spare=client_id)
        notes["photos"] = (f"{made:,} photos of {photo_sessions:,} sessions of "
                           f"{photo_clients:,} clients, added in "
                           f"{time.perf_counter() - started:.0f} s")
        _say(f"  {notes['photos']}")
        turned, upright, jpeg_bytes = import_phone_photos(repo, client_id, args.seed)
        figures["photo_import_ms"] = _ms(statistics.median(turned))
        notes["photo_import_ms"] = (
            f"median of {PHOTO_IMPORTS} after a warm-up, a {jpeg_bytes / 2**20:.1f} MB "
            "12-megapixel JPEG turned and stripped, stored on the server; upright: median "
            f"{_ms(statistics.median(upright)):.0f} ms")
        opened, how = compare_open(app, repo, client_id, COMPARE_RUNS)
        figures["compare_open_ms"] = None if opened is None else _ms(opened)
        notes["compare_open_ms"] = how
    finally:
        repo.db.close()
    figures["startup_ratio_photos"], how = startup_ratio_on(url, "photos", env, tmp,
                                                            args.runs, args.platform)
    notes["startup_ratio_photos"] = f"{made:,} photos: {how}"


def _first_line(exc: BaseException) -> str:
    """The first line of what went wrong first (an error raised while handling another is
    named by the one it was handling: a transaction the first one aborted)."""
    while exc.__context__ is not None and not exc.__suppress_context__:
        exc = exc.__context__
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def startup_ratio_on(where: str, label: str, env: dict[str, str], tmp: Path, runs: int,
                     platform: str) -> tuple[float, str]:
    """startup_ratio for a window on `where` (a file's path or a server's address)."""
    log = tmp / f"children-{label}.log"
    bare, nd = [], []
    for run in range(runs + 1):
        b, _ = time_to_paint(BARE_CHILD, [], env, log)
        n, _ = time_to_paint(NEEDLEDESK_CHILD, [where, str(tmp / f"state-{label}{run}.ini")],
                             env, log)
        if run:
            bare.append(b)
            nd.append(n)
    bare_ms, nd_ms = _ms(statistics.median(bare)), _ms(statistics.median(nd))
    return nd_ms / bare_ms, (f"NeedleDesk {nd_ms:.0f} ms / bare {bare_ms:.0f} ms, medians "
                             f"of {runs} alternated runs, launch to first paint, "
                             f"QT_QPA_PLATFORM={platform}")


def rss_of(where: str, tmp: Path, env: dict[str, str], client_id: str,
           session_id: str, *, tag: str = "-s") -> tuple[float, str]:
    """rss_mb of a fresh process with the window on `where` (a file or a server's URL):
    (MB, how). Its settings and exports go in `tmp`, their names ending in `tag`."""
    # Twice: the first run also compiles reportlab's bytecode into the cache, which an
    # installed program never does; the second is the one reported.
    for run in range(2):
        child = subprocess.run(
            [sys.executable, "-c", RSS_CHILD, where, str(tmp / f"rss{tag}{run}.ini"),
             client_id, session_id, str(tmp / f"export{tag}")],
            env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        if child.returncode != 0:
            raise RuntimeError(f"the memory child failed: {child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    if len(report["pdf_bytes"]) != 2:
        raise RuntimeError(f"the memory child did not export both PDFs: {report}")
    return report["peak_bytes"] / 2**20, ("peak RSS of a fresh process: window, 20-session "
                                          "card, both PDFs exported as the window does")


def machine() -> str:
    """CPUs and model, system, Python and PySide6: the line that goes with the figures."""
    import platform

    from PySide6 import __version__ as pyside

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or platform.machine()

    return (f"{os.cpu_count()} CPUs, {model or 'unknown CPU'}; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}; PySide6 {pyside}")


def table(figures: dict[str, float | None], notes: dict[str, str],
          budgets: dict[str, tuple[float, str]] = BUDGETS) -> str:
    lines = [f"clinic: {notes['clinic']}", f"photos: {notes.get('photos', 'none')}",
             f"machine: {machine()}", "",
             f"{'figure':<20} {'value':>9} {'budget':>9}  {'':4}  how",
             f"{'-' * 20} {'-' * 9} {'-' * 9}  {'-' * 4}  {'-' * 40}"]
    for key, (budget, unit) in budgets.items():
        value = figures[key]
        digits = 2 if unit == "×" else 1
        limit = f"≤ {budget:.1f}" if unit == "×" else f"≤ {budget:g}"
        shown = "—" if value is None else f"{value:.{digits}f}"
        verdict = "" if value is None else "ok" if value <= budget else "OVER"
        lines.append(f"{key:<20} {shown:>9} {limit:>9}  {verdict:<4}  "
                     f"{notes.get(key, '')}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m needledesk.bench",
        description="Measure NeedleDesk against its performance budget on a demo clinic.")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the thirteen figures instead of a "
                             "table (startup_ratio_large null when skipped)")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, metavar="N",
                        help=f"clients in the demo clinic (default {DEFAULT_CLIENTS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                        help=f"demo seed (default {DEFAULT_SEED})")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="where the demo database is kept between runs (default: "
                             "bench-cache/ in a source checkout, else the user cache folder)")
    parser.add_argument("--large", action="store_true",
                        help=f"also build (once, minutes) the {LARGE_CLIENTS:,}-client clinic "
                             "for startup_ratio_large; once built it is measured every run")
    parser.add_argument("--large-cache", type=Path, default=None, metavar="DIR",
                        help="where the large clinic is kept (default: the user cache folder, "
                             "outside the checkout)")
    parser.add_argument("--photos", type=int, default=CLINIC_PHOTOS, metavar="N",
                        help="photo records added to the copy startup_ratio_photos is taken "
                             f"on (default {CLINIC_PHOTOS:,})")
    parser.add_argument("--runs", type=int, default=5, metavar="N",
                        help="start-up runs of each kind; the medians are compared "
                             "(default 5)")
    parser.add_argument("--server", metavar="URL", default=None,
                        help="measure on the clinic server at postgresql://user@host:port/"
                             "database instead of a file: a database of its own is made "
                             "there (the role needs CREATEDB), filled with the demo clinic "
                             "and dropped after; adds rooms_save_p95_ms")
    parser.add_argument("--rooms-seconds", type=float, default=ROOMS_SECONDS, metavar="S",
                        help=f"with --server: how long the {ROOMS} rooms save at once "
                             f"(default {ROOMS_SECONDS:g})")
    parser.add_argument("--platform", default="offscreen",
                        help="QT_QPA_PLATFORM for every window (default offscreen; xcb under "
                             "xvfb-run)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.clients < 1 or args.runs < 1 or args.photos < 1 or args.rooms_seconds <= 0:
        _say("needledesk.bench: --clients, --runs, --photos and --rooms-seconds must be 1 "
             "or more")
        return 2
    args.cache = args.cache or default_cache_dir()
    if args.server:
        figures, notes = measure_server(args)
    else:
        figures, notes = measure(args)
    if args.json:
        print(json.dumps({key: None if value is None else round(value, 3)
                          for key, value in figures.items()}))
    else:
        print(table(figures, notes, SERVER_BUDGETS if args.server else BUDGETS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
