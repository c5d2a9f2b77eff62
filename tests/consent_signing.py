"""Consents signed on screen for tests: a hand-like signature drawn as strokes (a looping
cursive line with the pen's pressure rising and falling, a crossing bar and a dot) and a
consent signed under a form with both signatures."""

from __future__ import annotations

import math
from datetime import datetime

from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import (
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentTemplate,
    Signature,
    StrokePoint,
)

SIGNED_AT = datetime(2026, 11, 3, 10, 42)
PAD_W, PAD_H = 400.0, 150.0


def cursive_signature(seed: int = 0, *, pressure: bool = True, width: float = PAD_W,
                      height: float = PAD_H) -> Signature:
    """A hand-like signature on a `width` x `height` pad: a looping cursive stroke across
    it, a second short stroke (a crossing bar) and a dot; the pressure rising and falling
    along the stroke (1.0 throughout when `pressure` is off, as from a mouse)."""
    # a prolate cycloid: the pen loops up and back as it moves right, like joined letters,
    # each loop a different height
    loops = 6 + seed % 3
    main = []
    steps = 240
    for i in range(steps):
        t = i / (steps - 1)
        angle = t * loops * 2 * math.pi
        x = width * (0.08 + 0.74 * t) + 16 * math.sin(angle)
        tall = 0.55 + 0.45 * abs(math.sin(1.7 * angle / (2 * math.pi) + seed))
        y = height * 0.68 - height * 0.42 * tall * (1 - math.cos(angle)) / 2 \
            - height * 0.08 * math.sin(t * math.pi)
        p = 0.35 + 0.6 * math.sin(math.pi * t) ** 2 if pressure else 1.0
        main.append(StrokePoint(round(x, 2), round(min(max(y, 2), height - 2), 2),
                                round(p, 3), i * 8))
    bar = [StrokePoint(width * (0.15 + 0.5 * t), height * (0.3 + 0.05 * t),
                       0.5 + 0.4 * t if pressure else 1.0, int(t * 300))
           for t in (i / 20 for i in range(21))]
    dot = [StrokePoint(width * 0.9, height * 0.35, 0.8 if pressure else 1.0, 0)]
    return Signature([main, bar, dot], width, height, b"")


def signed_consent(client_id: str, kind: ConsentKind = ConsentKind.TREATMENT, *,
                   version: int = 2, answers: dict[str, bool] | None = None,
                   form: ConsentTemplate | None = None,
                   signed_at: datetime = SIGNED_AT) -> Consent:
    """A consent signed on screen under `form` (else the shipped form of `kind` numbered
    `version`), every statement ticked unless `answers` says otherwise."""
    if form is None:
        form = default_template(kind)
        form.version = version
    kind, version = form.kind, form.version
    return Consent(
        client_id=client_id, kind=kind, signed_at=signed_at, method=ConsentMethod.ON_SCREEN,
        practitioner="Lucía Fernández", title=form.title, body=form.body,
        statements=list(form.statements),
        answers=answers if answers is not None else {s.key: True for s in form.statements},
        template_id=form.id, template_version=version,
        client_signature=cursive_signature(1),
        practitioner_signature=cursive_signature(2, pressure=False))
