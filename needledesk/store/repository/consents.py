"""Consent forms and consents, read and written like every other record (validated by
`domain.consent_rules`, audited and sealed).

Both are written once and never changed. A consent form is edited by storing its next
version; a consent, once signed, is locked: the store has no way to update or delete one
(a client who changes their mind signs a new one). A consent names the form version it was
signed under and holds that version's text as it was: a later version changes nothing
signed before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from needledesk.domain.consent import KIND_TEXT, all_consents
from needledesk.domain.consent_rules import validate_consent, validate_template
from needledesk.domain.model import (
    ClientRecord,
    Consent,
    ConsentKind,
    ConsentStatement,
    ConsentTemplate,
)
from needledesk.domain.rules import Problem
from needledesk.errors import NotFoundError, ValidationError
from needledesk.store.repository.catalogue import Catalogue
from needledesk.store.repository.mapping import (
    _consent,
    _consent_row,
    _has_table,
    _raise_if,
    _template,
    _template_row,
)

#: What the store answers to any attempt to change a signed consent.
LOCKED = ("a signed consent is locked and cannot be changed; if the client's consent has "
          "changed, record a new consent")


class Consents(Catalogue):
    # --- reads --------------------------------------------------------------------------

    def consent_templates(self, kind: ConsentKind | None = None) -> list[ConsentTemplate]:
        """Every stored version of the consent forms (`kind`: of one form), oldest first."""
        if not _has_table(self.db, "consent_templates"):
            return []   # a file of schema 8 or older, read without upgrading
        sql, params = "SELECT * FROM consent_templates", []
        if kind is not None:
            sql, params = sql + " WHERE kind = ?", [str(kind)]
        found = [_template(r) for r in self.db.query(sql + " ORDER BY kind, version", params)]
        return found

    def current_template(self, kind: ConsentKind) -> ConsentTemplate | None:
        """The latest stored version of a form, or None when the clinic has stored none
        (then the form shipped with the program is offered: `domain.consent_forms`)."""
        versions = self.consent_templates(kind)
        return versions[-1] if versions else None

    def get_template(self, template_id: str) -> ConsentTemplate:
        if _has_table(self.db, "consent_templates"):
            rows = list(self.db.query("SELECT * FROM consent_templates WHERE id = ?",
                                      [template_id]))
            if rows:
                return _template(rows[0])
        raise NotFoundError("This consent form version is not stored here")

    def consents(self, client_id: str, *, carried: bool = False) -> list[Consent]:
        """A client's consents, by when they were signed; with `carried`, also those their
        screenings' "consent signed" ticks stand for (signed on paper)."""
        stored: list[Consent] = []
        if _has_table(self.db, "consents"):
            stored = [_consent(r) for r in self.db.query(
                "SELECT * FROM consents WHERE client_id = ? ORDER BY signed_at, rowid",
                [client_id])]
        if not carried:
            return stored
        return all_consents(stored, self.screenings(client_id))

    def get_consent(self, consent_id: str) -> Consent:
        if _has_table(self.db, "consents"):
            rows = list(self.db.query("SELECT * FROM consents WHERE id = ?", [consent_id]))
            if rows:
                return _consent(rows[0])
        raise NotFoundError("This consent is not stored here")

    # --- writes -------------------------------------------------------------------------

    def add_template_version(self, kind: ConsentKind, title: str, body: str,
                             statements: list[ConsentStatement], *, by: str
                             ) -> ConsentTemplate:
        """Store the next version of the form `kind` (version 1 when none is stored). The
        versions before it, and every consent signed under them, stay as they are."""
        current = self.current_template(kind)
        template = ConsentTemplate(kind, 1 if current is None else current.version + 1,
                                   title.strip(), body.strip(), list(statements),
                                   created_at=self._now(), created_by=by)
        _raise_if(validate_template(template))
        if current is not None and (current.title, current.body, current.statements) == (
                template.title, template.body, template.statements):
            raise ValidationError([Problem("", "nothing was changed in the consent form")])
        with self._writing():
            self._insert_template(template, by=by, action="create")
        return template

    def _insert_template(self, template: ConsentTemplate, *, by: str, action: str) -> None:
        self._table("consent_templates").insert(_template_row(template))
        self._record(action, "consent_template", template.id, by=by,
                     after=_template_row(template))

    def add_consent(self, consent: Consent, *, by: str,
                    template: ConsentTemplate | None = None, today: date | None = None
                    ) -> Consent:
        """Store a consent, locked from then on. `template`: the form version it was signed
        under, stored with it when the clinic had not stored that version yet (the form
        shipped with the program). A consent naming a stored version must hold its text.
        Returns the consent as stored."""
        consent.practitioner = consent.practitioner.strip()
        _raise_if(validate_consent(consent, today or self._now().date()))
        self.get_client(consent.client_id)
        if self.existing_ids("consents", [consent.id]):
            raise ValidationError([Problem("", LOCKED)])
        new_template = self._template_to_store(consent, template)
        with self._writing():
            if new_template is not None:
                self._insert_template(new_template, by=by, action="create")
            self._table("consents").insert(_consent_row(consent))
            self._record("sign" if consent.client_signature else "create", "consent",
                         consent.id, by=by, after=_consent_audit(consent))
        # As stored (a signature's points to a tenth, pressure to a thousandth): what a PDF
        # printed now shows is what every later read, print and export shows.
        return self.get_consent(consent.id)

    def _template_to_store(self, consent: Consent, template: ConsentTemplate | None
                           ) -> ConsentTemplate | None:
        """The version `template` when it is not stored yet (None when it is), after checking
        that `consent` holds the text of the version it names."""
        if consent.template_id is None:
            return None
        versions = self.consent_templates()
        stored = [t for t in versions if t.id == consent.template_id]
        form = stored[0] if stored else template
        if form is None or form.id != consent.template_id:
            raise ValidationError([Problem("template_id", "names a consent form version that "
                                           "is not stored here")])
        if (form.kind, form.version, form.title, form.body, form.statements) != (
                consent.kind, consent.template_version, consent.title, consent.body,
                consent.statements):
            raise ValidationError([Problem("", "the consent's text differs from the form "
                                           f"version it names ({form.title}, version "
                                           f"{form.version})")])
        if stored:
            return None
        _raise_if(validate_template(form))
        if any(t.kind == form.kind and t.version == form.version for t in versions):
            raise ValidationError([Problem("template_version", "another form is already "
                                           f"stored as version {form.version}")])
        return form

    def update_consent(self, consent: Consent, *, by: str) -> None:
        """Never allowed: a signed consent is locked (kept so that any caller trying it gets
        the plain answer, not a missing method)."""
        raise ValidationError([Problem("", LOCKED)])

    # --- import ---------------------------------------------------------------------------

    def consent_problems(self, records: list[ClientRecord],
                         templates: list[ConsentTemplate]) -> list[Problem]:
        """Why imported consents and form versions cannot be written: each must be sound,
        and one stored with the same id must be the same (a signed consent never changes,
        not even by import)."""
        problems: list[Problem] = []
        for i, t in enumerate(templates):
            problems += [p.under(f"consent_templates[{i}]") for p in validate_template(t)]
        stored_templates = {t.id: t for t in self.consent_templates()}
        for i, t in enumerate(templates):
            old = stored_templates.get(t.id)
            if old is not None and _template_row(old) != _template_row(t):
                problems.append(Problem(f"consent_templates[{i}]", f"“{t.title}” version "
                                        f"{t.version} differs from the stored form with the "
                                        "same id"))
        ids = [c.id for r in records for c in r.consents]
        stored: dict[str, Consent] = {}
        if ids and _has_table(self.db, "consents"):
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                stored |= {r["id"]: _consent(r) for r in self.db.query(
                    f"SELECT * FROM consents WHERE id IN ({marks})", chunk)}
        for i, record in enumerate(records):
            for j, c in enumerate(record.consents):
                place = f"clients[{i}].consents[{j}]"
                problems += [p.under(place) for p in validate_consent(c)]
                was = stored.get(c.id)
                if was is not None and _consent_row(was) != _consent_row(c):
                    problems.append(Problem(place, f"differs from the stored {c.title.lower()} "
                                            "with the same id: " + LOCKED))
        return problems

    def _insert_consents(self, records: Iterable[ClientRecord],
                         templates: list[ConsentTemplate], *, by: str,
                         notes: list[str] | None = None) -> tuple[int, int]:
        """Add the imported form versions and consents not yet stored, each with its audit
        row (inside the import's transaction). A form version whose number is taken here by
        another form is not added: the consents keep their own copy of its text (said in
        `notes`)."""
        versions = self.consent_templates()
        taken = {(t.kind, t.version) for t in versions}
        stored_templates = {t.id for t in versions}
        templates_added = 0
        for t in templates:
            if t.id in stored_templates:
                continue
            if (t.kind, t.version) in taken:
                if notes is not None:
                    notes.append(f"“{t.title}” version {t.version} from the file was not "
                                 f"added to the clinic's {KIND_TEXT[t.kind]} forms: this "
                                 f"clinic has its own version {t.version}. The consents "
                                 "signed under it keep its text as they were signed.")
                continue
            self._insert_template(t, by=by, action="import")
            taken.add((t.kind, t.version))
            templates_added += 1
        consents_added, _there = self._insert_imported(
            "consents", "consent", (c for r in records for c in r.consents), _consent_row,
            _consent_audit, by=by)
        return templates_added, consents_added


def _consent_audit(consent: Consent) -> dict[str, Any]:
    """What the audit trail shows of a consent: the stored row without the pictures (their
    hash is in the seal), strokes counted rather than copied."""
    row = _consent_row(consent)
    for who in ("client", "practitioner"):
        row.pop(f"{who}_image")
        strokes = row.pop(f"{who}_strokes")
        signature = getattr(consent, f"{who}_signature")
        row[f"{who}_signature"] = (None if strokes is None else
                                   f"{len(signature.strokes)} strokes" if signature else None)
    return row
