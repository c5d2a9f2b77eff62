"""The Help menu's pages: the keyboard shortcuts and a short guide.

The window's own shortcuts are read from its actions, so the list never says a key does
something it does not; the session editor's come from `EDITOR_KEYS`, which a test checks
against the editor's real shortcuts.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

#: The session editor's keys: (key as typed, what it does).
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+S", "Save the session"),
    ("Ctrl+P", "Preview and print the client's one-page summary"),
    ("Ctrl+R", "Fill from this client's previous session"),
)
#: The keys of a session's photos (the editor's Photos section, and Photos of the chosen
#: session…), checked against the panel's own by a test.
PHOTO_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+Shift+A", "Add photos from files"),
    ("Ctrl+Shift+I", "Photos waiting in this PC's import folder"),
    ("Ctrl+Shift+T", "Take the chosen view's photo with a camera"),
    ("Space / Enter, G, [ and ]", "Taking a photo: take it; the previous photo over it on or "
     "off; fainter, stronger"),
    ("Enter", "Open the chosen photo large (on an empty view: add one)"),
    ("F2", "Change the chosen photo's view"),
    ("← / →", "In a photo opened large: the session's previous / next photo"),
    ("Delete", "Remove the chosen photo, saying why"),
    ("Menu key / Shift+F10", "The chosen photo's menu: open, view, remove"),
)
#: The keys of the comparison of a client's photos (ui/compare_view.py).
COMPARE_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+1 / Ctrl+2", "Comparing photos: side by side / overlaid with a divider"),
    ("+ / - / 0 (or with Ctrl)", "Zoom both photos in / out / fit them"),
    ("Arrow keys on the photos", "Move both photos the same way (when zoomed in)"),
    ("Shift+Left / Shift+Right", "Move the divider (overlaid; or the Reveal slider)"),
)
#: Keys that work everywhere.
GENERAL_KEYS: tuple[tuple[str, str], ...] = (
    ("Tab / Shift+Tab", "Next / previous field, row by row"),
    ("Alt + underlined letter", "The button or field with that letter"),
    ("Enter in the search box", "Open the first client found"),
    ("Esc", "Close a dialog (it asks first if something was changed)"),
)

GUIDE = """
<h3>A session in about a minute</h3>
<ol>
<li><b>Find the client</b>: type a few letters of the name, or digits of the phone, in the
search box (Ctrl+F). Enter opens the first one found. A new client: Ctrl+N.</li>
<li><b>Screening</b>: before the first session, and again when the card says it is due,
record the answers (Screening… on the card). Consent is signed on its own form (below).</li>
<li><b>New session</b> (Ctrl+Shift+N): first, "anything changed since the screening?":
No change, or update the screening. Then the areas treated with the needle depth of each,
the anaesthetic and when it was applied and removed, the serums with their lots (picked
from the products and lots the clinic has entered; an expired lot is shown in amber), the
skin's reactions and the aftercare given. Click a zone of the face chart beside the areas
to add that area (or go to its row) and type its depth: the chart colours each zone by its
depth (from the keyboard: Tab to the chart, arrow keys to a zone, Enter). Repeat last
(Ctrl+R) copies the previous session; check the lots it copied. Save (Ctrl+S) as often as
you like.</li>
<li><b>Sign off</b> when the session is complete. A signed session cannot be changed;
a correction is an amendment with a reason, kept in the audit trail.</li>
<li><b>Print</b> the one-page summary for the client (Ctrl+P): aftercare and the next
date are on it.</li>
</ol>
<h3>Courses</h3>
<p>Plan a course on the client's card: the concern, how many sessions, the weeks between
them and the areas planned. The card and the printed record then show "session 3 of 4" and
the next date due.</p>
<p>Each area of the clinic's list is drawn in one zone of the face chart: File › Settings…,
the Guidelines tab, its Zone column ("No zone" for the body). A renamed area keeps its zone.</p>
<h3>Consents</h3>
<p>The client signs the treatment consent on screen: Client › Sign treatment consent…
(Ctrl+Shift+G), or Consents… on the card. The client reads the form, ticks each statement
and signs with a finger, a pen or the mouse; you countersign. Sign stores it locked: it can
be opened, printed or saved as a PDF, never changed; a new consent replaces it. The photo
consent (Client › Sign photo consent…) names each use of the photos the client agrees to.
Without a touch screen, print a blank form and record the signed paper: Client › Record a
consent signed on paper…. The card says which consent covers today, and the session warns
when none does or it is older than the clinic's limit.</p>
<p>The forms' words are the clinic's: File › Consent forms… shows the treatment and the photo
consent, and Save as new version (Ctrl+S) stores the changed form as the next version, used
from then on. A consent already signed keeps the text it was signed under; older versions
can be opened there, read-only. The photo consent's four uses cannot be removed.</p>
<h3>Photos</h3>
<p>A session's photos are in the Photos section of its editor, and, for any session, under
Photos of this session… on the card (Ctrl+Shift+P). Drag photo files onto a view (an empty
place says which views the clinic asks for: File › Settings…, Photos), or press
Ctrl+Shift+A to choose files. Photos a tablet or camera saves into a folder: Import
folder… (Ctrl+Shift+I) lists those not taken in yet; choose some and their view, then Add.
NeedleDesk never moves or deletes the files there. Photos are taken only under a photo
consent that allows keeping them in the record. Delete removes a photo, with a reason that
is kept with who removed it and when.</p>
<p>Client › Compare photos… (Ctrl+Shift+C, or Compare photos… on the card) shows one view's
photos from two sessions: the first and the latest, or any two chosen under Earlier and
Later, with each session's date and depths. Side by side (Ctrl+1) or overlaid (Ctrl+2): the
later photo over the earlier, split by a divider to drag. Zooming and moving one photo moves
the other the same way. A line at the top says whether the client allowed being shown their
photos: if not, keep the screen turned away.</p>
<h3>Products, recalls and who is due</h3>
<p>File › Products and lots… keeps the serums, anaesthetics and cartridges with their lots
and expiry dates. Reports › Recall a lot… lists every client who received a lot, with their
phone numbers, to print. Reports › Who is due… (Ctrl+Shift+D) lists the courses whose next
session is due, overdue or lapsed. Reports › Reactions report… shows reactions by product,
lot and needle depth, so a bad lot or too deep a depth stands out.</p>
<h3>Keeping the records safe</h3>
<p>Everything is kept on this PC in one file. NeedleDesk backs it up every day and on
closing (File › Back up now, Ctrl+B, at any time), into the backup folder (File › Backup
folder…): choose a USB stick or a second disk so a backup survives the PC.
File › Restore a backup… puts one back, keeping the current file beside it. Help › Where
the records are shows each place.</p>
<h3>When you step away</h3>
<p>File › App lock… sets a password or PIN; the window then locks itself after the idle
minutes you choose, and Ctrl+L locks it at once.</p>
"""


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(key, what) for each of the window's actions that has a shortcut, as the menus say
    it (the & of the mnemonic and any "…" removed)."""
    rows = []
    for act in actions:
        key = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if key:
            rows.append((key, act.text().replace("&", "").rstrip("…")))
    return rows


def shortcuts_html(actions: list[QAction]) -> str:
    def table(title: str, rows) -> str:
        body = "".join(f"<tr><td><b>{escape(key)}</b></td><td>{escape(what)}</td></tr>"
                       for key, what in rows)
        return f"<h3>{escape(title)}</h3><table cellpadding=3>{body}</table>"

    return (table("Main window", shortcut_rows(actions)) + table("Session", EDITOR_KEYS)
            + table("A session's photos", PHOTO_KEYS)
            + table("Comparing photos", COMPARE_KEYS) + table("Everywhere", GENERAL_KEYS))


def show_page(parent: QWidget, title: str, html: str) -> QDialog:
    """A closable page of text, parented and freed when closed."""
    dialog = QDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowTitle(title)
    dialog.resize(620, 560)
    layout = QVBoxLayout(dialog)
    text = QTextBrowser()
    text.setObjectName("help-text")
    text.setHtml(html)
    layout.addWidget(text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.open()
    return dialog
