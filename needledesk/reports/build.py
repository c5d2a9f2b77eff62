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

__all__ = ["course_record_pdf", "default_course_name", "default_summary_name",
           "session_summary_pdf"]


def session_summary_pdf(repo: Repository, session_id: str, *,
                        today: date | None = None) -> bytes:
    """The one-page handout of a session. Raises NotFoundError for an unknown id."""
    from needledesk.reports.summary import render_session_summary

    session = repo.get_session(session_id)
    client = repo.get_client(session.client_id)
    return render_session_summary(client, session, repo.sessions(client.id),
                                  repo.courses(client.id), repo.settings(), today=today,
                                  screenings=repo.screenings(client.id))


def course_record_pdf(repo: Repository, client_id: str, *, today: date | None = None) -> bytes:
    """Every session of a client, in order, as the clinical record. Raises NotFoundError for
    an unknown id."""
    from needledesk.reports.course import render_course_record

    client = repo.get_client(client_id)
    return render_course_record(client, repo.sessions(client_id), repo.courses(client_id),
                                repo.screenings(client_id), repo.settings(), today=today,
                                consents=repo.consents(client_id, carried=True))
