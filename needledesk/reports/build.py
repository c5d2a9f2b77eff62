"""The PDFs straight from the repository: fetch a client's records, render, return bytes.

The one reports module that knows the store. The renderers (and reportlab) are imported on
first use, so importing this module for the file-name helpers stays cheap.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from needledesk.reports.names import default_course_name, default_summary_name

if TYPE_CHECKING:
    from needledesk.store.repository import Repository

__all__ = ["blank_consent_form_pdf", "consent_record_pdf", "course_record_pdf",
           "default_course_name", "default_summary_name", "session_summary_pdf",
           "summary_photos_note"]


def session_summary_pdf(repo: Repository, session_id: str, *,
                        today: date | None = None, photos: bool = False) -> bytes:
    """The one-page handout of a session; with `photos`, a second page of the session's
    photos when the client's photo consent allows showing them. Raises NotFoundError for an
    unknown id."""
    from needledesk.reports.summary import render_session_summary

    session = repo.get_session(session_id)
    client = repo.get_client(session.client_id)
    shown = repo.photos(session_id=session_id) if photos else []
    return render_session_summary(client, session, repo.sessions(client.id),
                                  repo.courses(client.id), repo.settings(), today=today,
                                  screenings=repo.screenings(client.id), photos=shown,
                                  photo_data=repo.photo_bytes,
                                  consents=repo.consents(client.id) if shown else ())


def summary_photos_note(repo: Repository, session_id: str, *,
                        today: date | None = None) -> str | None:
    """Why the summary of `session_id` printed with its photos has no photo page, in plain
    words; None when it has one."""
    from needledesk.reports.photos import shown_refusal

    session = repo.get_session(session_id)
    return shown_refusal(repo.photos(session_id=session_id), repo.consents(session.client_id),
                         today or date.today())


def course_record_pdf(repo: Repository, client_id: str, *, today: date | None = None) -> bytes:
    """Every session of a client, in order, as the clinical record. Raises NotFoundError for
    an unknown id."""
    from needledesk.reports.course import render_course_record

    client = repo.get_client(client_id)
    return render_course_record(client, repo.sessions(client_id), repo.courses(client_id),
                                repo.screenings(client_id), repo.settings(), today=today,
                                consents=repo.consents(client_id, carried=True),
                                photos=repo.photos(client_id=client_id),
                                photo_data=repo.photo_bytes)


def consent_record_pdf(repo: Repository, client_id: str | None, *, kind: str | None = None,
                       consent_id: str | None = None, today: date | None = None) -> bytes:
    """A signed consent as the PDF to print: the one `consent_id` names, else the client's
    latest consent of `kind` (treatment unless "photo"). Raises NotFoundError for an
    unknown id, and NeedleDeskError, in plain words, for a client with no such consent or
    one that stands for a screening's tick (it has no form to print)."""
    from needledesk.domain.consent import KIND_TEXT, all_consents
    from needledesk.domain.model import ConsentKind
    from needledesk.domain.text import day_text
    from needledesk.errors import NeedleDeskError, NotFoundError
    from needledesk.reports.consent import consent_pdf

    client = repo.get_client(client_id) if client_id else None
    wanted = ConsentKind(kind) if kind else None
    if consent_id is not None:
        try:
            consent = repo.get_consent(consent_id)
        except NotFoundError:
            screenings = repo.screenings(client.id) if client is not None else []
            carried = [c for c in all_consents([], screenings) if c.id == consent_id]
            if not carried:
                raise NotFoundError(f"no consent with id {consent_id!r}") from None
            consent = carried[0]
        if client is not None and consent.client_id != client.id:
            raise NeedleDeskError(f"the consent {consent_id!r} is not one of "
                                  f"{client.full_name}'s")
        if wanted is not None and consent.kind != wanted:
            raise NeedleDeskError(f"the consent {consent_id!r} is a {KIND_TEXT[consent.kind]}, "
                                  f"not a {KIND_TEXT[wanted]}")
        client = client or repo.get_client(consent.client_id)
    else:
        if client is None:
            raise NeedleDeskError("name the client with --client ID (or one consent with "
                                  "--consent ID)")
        wanted = wanted or ConsentKind.TREATMENT
        blank = "--blank" + (" --kind photo" if wanted == ConsentKind.PHOTO else "")
        found = [c for c in repo.consents(client.id, carried=True) if c.kind == wanted]
        if not found:
            raise NeedleDeskError(f"{client.full_name} has no {KIND_TEXT[wanted]} kept in "
                                  f"NeedleDesk; print a blank form with {blank}")
        consent = found[-1]
    if consent.carried_from is not None:
        raise NeedleDeskError(
            f"{client.full_name}'s {KIND_TEXT[consent.kind]} of "
            f"{day_text(consent.signed_at.date())} is the tick on that day's screening, from "
            "before consent forms were kept in NeedleDesk: there is no form to print; print "
            "a blank form with --blank")
    return consent_pdf(consent, client, repo.settings(), today=today)


def blank_consent_form_pdf(repo: Repository, client_id: str | None = None, *,
                           kind: str | None = None, today: date | None = None) -> bytes:
    """The clinic's current consent form of `kind` (treatment unless "photo"; the form
    shipped with NeedleDesk when the clinic has stored none) to print and sign on paper,
    with the client's name when `client_id` is given. Raises NotFoundError for an unknown
    client."""
    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.model import ConsentKind
    from needledesk.reports.consent import blank_consent_pdf

    client = repo.get_client(client_id) if client_id else None
    wanted = ConsentKind(kind) if kind else ConsentKind.TREATMENT
    form = repo.current_template(wanted) or default_template(wanted)
    return blank_consent_pdf(form, repo.settings(), client, today=today)
