"""Photos, read and written like every other record (validated by `domain.photos`, audited
and sealed), their bytes kept behind `store.photo_files.PhotoStore`.

A photo's bytes are written (atomically, fsynced) before the row naming them commits; a
failed write of the row discards bytes no other row names. A photo is added to a session,
signed or not (photos are often copied off the tablet after sign-off): it is its own sealed
record, never part of the session's seal. It changes only by its view being assigned, and
is removed only by amendment (a reason; the row and its audit rows, with the hash, stay; the
bytes go).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from needledesk import imaging
from needledesk.domain.model import ClientRecord, Photo, PhotoSource, PhotoView
from needledesk.domain.photos import (
    USE_RECORD,
    photo_consent,
    reason_problems,
    use_refusal,
    validate_photo,
)
from needledesk.domain.rules import Problem
from needledesk.errors import NotFoundError, ValidationError
from needledesk.store.photo_files import (
    PhotoFileError,
    PhotoStore,
    ServerPhotoStore,
    ThumbnailCache,
    digest,
    server_thumbnail_folder,
    store_for,
)
from needledesk.store.repository.consents import Consents
from needledesk.store.repository.mapping import _has_table, _photo, _photo_row, _raise_if


@dataclass(frozen=True)
class PhotoAdded:
    """What `add_photo` did: the photo as stored, and whether it is new (False: the same
    file was already stored for this client, and nothing changed)."""

    photo: Photo
    added: bool


class Photos(Consents):
    @property
    def photo_store(self) -> PhotoStore:
        """Where this database's photos' bytes are (beside the file; in memory for
        `:memory:`; in the clinic server's database, with this PC's thumbnails in its cache
        folder). Made on the thread that will write through it (the UI thread): a worker
        thread reading through it reads on a connection of its own."""
        store: PhotoStore | None = getattr(self, "_photo_store", None)
        if store is None:
            if self.on_server:
                store = ServerPhotoStore(
                    self.db, thumbs=ThumbnailCache(server_thumbnail_folder(self.path)))
            else:
                store = store_for(self.path)
            self._photo_store = store
        return store

    # --- reads --------------------------------------------------------------------------

    def photos(self, *, client_id: str | None = None, session_id: str | None = None,
               removed: bool = False) -> list[Photo]:
        """The photos of a client or a session (live ones; with `removed`, those removed by
        amendment too), in the order they were added."""
        if not _has_table(self.db, "photos"):
            return []
        where, params = [], []
        if client_id is not None:
            where.append("client_id = ?")
            params.append(client_id)
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        if not removed:
            where.append("removed_at IS NULL")
        sql = "SELECT * FROM photos" + (" WHERE " + " AND ".join(where) if where else "")
        return [_photo(r) for r in self.db.query(sql + " ORDER BY added_at, rowid", params)]

    def photo_counts(self, session_ids: Iterable[str]) -> dict[str, int]:
        """How many live photos each session has (the client card's session list)."""
        ids = list(session_ids)
        if not ids or not _has_table(self.db, "photos"):
            return {}
        counts: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            counts |= dict(self.db.execute(
                f"SELECT session_id, count(*) FROM photos WHERE session_id IN ({marks}) AND "
                "removed_at IS NULL GROUP BY session_id", chunk).fetchall())
        return counts

    def get_photo(self, photo_id: str) -> Photo:
        if _has_table(self.db, "photos"):
            rows = list(self.db.query("SELECT * FROM photos WHERE id = ?", [photo_id]))
            if rows:
                return _photo(rows[0])
        raise NotFoundError("This photo is not stored here")

    def photo_bytes(self, photo: Photo) -> bytes:
        """The photo's stored bytes, checked against its hash."""
        if photo.removed:
            raise NotFoundError("This photo was removed by amendment")
        data = self.photo_store.get(photo.sha256)
        if digest(data) != photo.sha256:
            raise PhotoFileError("the photo file differs from what was stored (it was changed "
                                 "outside NeedleDesk); restore it from a backup")
        return data

    def thumbnail(self, photo: Photo, side: int = imaging.THUMB_SIDE) -> bytes:
        """A small JPEG of the photo, from the thumbnail cache (made on first use)."""
        cached = self.photo_store.thumbnail(photo.sha256, side)
        if cached is not None:
            return cached
        small = imaging.thumbnail(self.photo_bytes(photo), side)
        self.photo_store.keep_thumbnail(photo.sha256, side, small)
        return small

    def find_original(self, client_id: str, original_sha256: str) -> Photo | None:
        """The live photo of this client that was made from the file with this hash."""
        if not _has_table(self.db, "photos"):
            return None
        rows = list(self.db.query(
            "SELECT * FROM photos WHERE client_id = ? AND original_sha256 = ? AND removed_at "
            "IS NULL ORDER BY rowid LIMIT 1", [client_id, original_sha256]))
        return _photo(rows[0]) if rows else None

    def known_originals(self) -> set[str]:
        """The hashes of every file ever taken in as a photo (removed ones too): the watched
        folder hides those."""
        if not _has_table(self.db, "photos"):
            return set()
        return {r[0] for r in self.db.execute("SELECT DISTINCT original_sha256 FROM photos")}

    # --- writes -------------------------------------------------------------------------

    def add_photo(self, session_id: str, data: bytes, *, view: PhotoView, by: str,
                  label: str = "", source: PhotoSource = PhotoSource.FILE,
                  name: str = "the photo", now: datetime | None = None) -> PhotoAdded:
        """Take in a photo file's bytes for a session: refused (nothing written) without a
        photo consent allowing photos in the record; cleaned (`imaging.prepare`); a file
        already stored for this client is not stored twice."""
        session = self.get_session(session_id)
        when = (now or self._now()).replace(microsecond=0)
        consents = self.consents(session.client_id)
        refusal = use_refusal(consents, when.date(), USE_RECORD)
        if refusal is not None:
            raise ValidationError([Problem("", refusal)])
        original = digest(data)
        found = self.find_original(session.client_id, original)
        if found is not None:
            return PhotoAdded(found, False)
        prepared = imaging.prepare(data, name)
        consent = photo_consent(consents, when.date())
        photo = Photo(client_id=session.client_id, session_id=session.id, view=PhotoView(view),
                      sha256=prepared.sha256, original_sha256=prepared.original_sha256,
                      media_type=prepared.media_type, width=prepared.width,
                      height=prepared.height, size=len(prepared.data), added_at=when,
                      added_by=by.strip(), label=label.strip(), taken_at=prepared.taken_at,
                      source=PhotoSource(source),
                      consent_id=consent.id if consent is not None else None)
        _raise_if(validate_photo(photo))
        self.photo_store.put(prepared.data)
        with self._keeping_only_named([photo.sha256]), self._writing():
            self._table("photos").insert(_photo_row(photo))
            self._record("add", "photo", photo.id, by=by, after=_photo_audit(photo))
        if prepared.thumb:   # made while the picture was decoded: the panel shows it next
            self.photo_store.keep_thumbnail(photo.sha256, imaging.THUMB_SIDE, prepared.thumb)
        return PhotoAdded(photo, True)

    @contextlib.contextmanager
    def _keeping_only_named(self, hashes: Iterable[str]) -> Iterator[None]:
        """Bytes just put for rows about to be written: if the write fails, those no row
        names are discarded (a crash instead leaves an orphan for `tidy_photo_files`)."""
        try:
            yield
        except BaseException:
            for sha in set(hashes):
                if not self._named(sha):
                    with contextlib.suppress(OSError, PhotoFileError):
                        self.photo_store.discard(sha)
            raise

    def _named(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM photos WHERE sha256 = ? AND removed_at IS NULL "
                               "LIMIT 1", [sha256]).fetchone() is not None

    def assign_view(self, photo_id: str, view: PhotoView, *, by: str, label: str = ""
                    ) -> Photo:
        """Give a photo its view (and a close-up its label): audited like any change."""
        photo = self.get_photo(photo_id)
        if photo.removed:
            raise ValidationError([Problem("", "this photo was removed and cannot be changed")])
        changed = replace(photo, view=PhotoView(view), label=label.strip())
        _raise_if(validate_photo(changed))
        if (changed.view, changed.label) == (photo.view, photo.label):
            return photo
        with self._writing():
            self._table("photos").update(photo.id, {"view": str(changed.view),
                                                    "label": changed.label})
            self._record("update", "photo", photo.id, by=by,
                         before={"view": str(photo.view), "label": photo.label},
                         after={"view": str(changed.view), "label": changed.label})
        return changed

    def remove_photo(self, photo_id: str, reason: str, *, by: str) -> Photo:
        """Remove a photo by amendment: the record keeps its hash and who removed it, when
        and why (so does its audit row); its bytes leave the store (and so every view,
        export and backup made from now on)."""
        photo = self.get_photo(photo_id)
        if photo.removed:
            raise ValidationError([Problem("", "this photo was already removed")])
        _raise_if(reason_problems(reason))
        if not by.strip():
            raise ValidationError([Problem("by", "Who removes the photo: a name is required")])
        gone = replace(photo, removed_at=self._now(), removed_by=by.strip(),
                       removed_reason=reason.strip())
        with self._writing():
            self._table("photos").update(photo.id, {
                "removed_at": _photo_row(gone)["removed_at"], "removed_by": gone.removed_by,
                "removed_reason": gone.removed_reason})
            self._record("remove", "photo", photo.id, by=by,
                         before={"sha256": photo.sha256, "view": str(photo.view)},
                         after={"sha256": photo.sha256, "view": str(photo.view),
                                "removed_by": gone.removed_by,
                                "removed_reason": gone.removed_reason})
        if not self._named(photo.sha256):
            with contextlib.suppress(OSError):
                self.photo_store.discard(photo.sha256)
        return gone

    # --- check ----------------------------------------------------------------------------

    def photo_file_problems(self) -> tuple[list[str], list[str]]:
        """(problems, orphans): each live photo's bytes present and matching its hash, and
        the files in the store that no live photo names."""
        if not _has_table(self.db, "photos"):
            return [], []
        problems: list[str] = []
        wanted: dict[str, list[str]] = {}
        for photo_id, sha, client_id in self.db.execute(
                "SELECT id, sha256, client_id FROM photos WHERE removed_at IS NULL"):
            wanted.setdefault(str(sha), []).append(f"photo {photo_id} (client {client_id})")
        store = self.photo_store
        held = set(store.hashes())
        server = isinstance(store, ServerPhotoStore)
        # On the server, the server hashes its own rows: no picture crosses the network.
        changed = store.changed(sorted(held & set(wanted))) \
            if isinstance(store, ServerPhotoStore) else set()
        for sha, names in sorted(wanted.items()):
            what = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
            if sha not in held:
                problems.append(f"{what}: its picture is missing from the clinic server; "
                                "restore it from a backup" if server else
                                f"{what}: its picture file is missing from the photo folder; "
                                "restore it from a backup")
                continue
            if not server:
                try:
                    changed |= {sha} if digest(store.get(sha)) != sha else set()
                except PhotoFileError as exc:
                    problems.append(f"{what}: {exc}")
                    continue
            if sha in changed:
                kept = "on the clinic server" if server else "file"
                problems.append(f"{what}: its picture {kept} was changed outside NeedleDesk "
                                "(it no longer matches its hash); restore it from a backup")
        orphans = [sha for sha in sorted(held) if sha not in wanted]
        if isinstance(store, ServerPhotoStore) and orphans:
            # Another room may be saving a photo whose picture it has just put: not an orphan
            # (nor tidied away under it) until it has been unnamed for a while.
            settled = store.settled(orphans)
            orphans = [sha for sha in orphans if sha in settled]
        return problems, orphans

    def tidy_photo_files(self) -> int:
        """Remove the files no live photo names (left by an interrupted import, or by a
        removal interrupted before its file went). Returns how many. On the clinic server,
        a picture put within the last hour is left: another room may be saving its photo."""
        _problems, orphans = self.photo_file_problems()
        for sha in orphans:
            self.photo_store.discard(sha)
        store = self.photo_store
        if isinstance(store, ServerPhotoStore):   # photos removed from another room
            store.thumbs.keep_only(set(store.hashes()))
        return len(orphans)

    # --- import ---------------------------------------------------------------------------

    def photo_problems(self, records: list[ClientRecord]) -> list[Problem]:
        """Why imported photos cannot be written: each must be sound and of a session of its
        own client in the file or here, and one stored with the same id the same."""
        problems: list[Problem] = []
        ids = [p.id for r in records for p in r.photos]
        stored = {p.id: p for p in self._photos_by_id(ids)}
        for i, record in enumerate(records):
            sessions = {s.id for s in record.sessions}
            for j, photo in enumerate(record.photos):
                place = f"clients[{i}].photos[{j}]"
                problems += [p.under(place) for p in validate_photo(photo)]
                if photo.client_id != record.client.id:
                    problems.append(Problem(place, "belongs to another client"))
                if photo.session_id not in sessions:
                    problems.append(Problem(f"{place}.session_id", "names a session that is "
                                            "not this client's in the file"))
                was = stored.get(photo.id)
                if was is not None and _photo_row(was) != _photo_row(photo) | {
                        "removed_at": _photo_row(was)["removed_at"],
                        "removed_by": was.removed_by, "removed_reason": was.removed_reason}:
                    problems.append(Problem(place, "differs from the stored photo with the "
                                            "same id"))
        return problems

    def _photos_by_id(self, ids: list[str]) -> list[Photo]:
        if not ids or not _has_table(self.db, "photos"):
            return []
        found: list[Photo] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found += [_photo(r) for r in self.db.query(
                f"SELECT * FROM photos WHERE id IN ({marks})", chunk)]
        return found

    def _put_imported_photos(self, records: Iterable[ClientRecord],
                             photo_data: Callable[[str], bytes]) -> list[str]:
        """Put the bytes of the imported photos not stored yet (before their rows are
        written); returns their hashes. `photo_data(sha256)` gives the file's bytes, already
        checked against the hash by the caller."""
        places = [(f"clients[{i}].photos[{j}]", p) for i, r in enumerate(records)
                  for j, p in enumerate(r.photos)]
        stored = self.existing_ids("photos", (p.id for _place, p in places))
        put: list[str] = []
        # A picture that cannot be read or does not match (the file changed since it was
        # checked) stops the import: those put before it are taken out again. A picture
        # must also be as NeedleDesk keeps them (no metadata): a crafted file is refused.
        with self._keeping_only_named(put):
            for place, photo in places:
                if photo.id in stored or photo.sha256 in put:
                    continue
                data = photo_data(photo.sha256)
                if digest(data) != photo.sha256:
                    raise ValidationError([Problem(f"{place}.file", "does not match its "
                                                   "hash")])
                problem = imaging.kept_form_problem(data, photo.media_type, photo.width,
                                                    photo.height)
                if problem is not None:
                    raise ValidationError([Problem(f"{place}.file", problem)])
                self.photo_store.put(data)
                put.append(photo.sha256)
        return put

    def _insert_photos(self, records: Iterable[ClientRecord], *, by: str) -> tuple[int, int]:
        """Write the imported photos not yet stored, each with its audit row (inside the
        import's transaction). Returns (added, already stored)."""
        return self._insert_imported("photos", "photo", (p for r in records for p in r.photos),
                                     _photo_row, _photo_audit, by=by)


def _photo_audit(photo: Photo) -> dict[str, Any]:
    """What the audit trail shows of a photo: its record (the bytes are named by hash)."""
    return _photo_row(photo)
