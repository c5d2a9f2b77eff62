"""Print, preview and export the PDFs that `reports` makes: one source of truth.

The preview and the printer get the very bytes that "Export PDF…" writes; QtPdf renders
each page and it is painted onto the printer's page. Building the PDF runs off the UI
thread through `Tasks`; only painting (which Qt requires on the UI thread) happens here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRect, QSize, QSizeF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from needledesk.errors import NeedleDeskError

#: Pages are rasterised at this resolution at most: sharp on paper, kind to memory.
MAX_DPI = 300


class PdfPages:
    """A loaded PDF whose pages can be painted onto any QPrinter."""

    def __init__(self, data: bytes):
        self._bytes = QByteArray(data)
        self._buffer = QBuffer(self._bytes)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument()
        self.document.load(self._buffer)
        if self.document.status() != QPdfDocument.Status.Ready:
            raise NeedleDeskError(f"the PDF could not be read for printing "
                                  f"({self.document.error().name})")

    @property
    def count(self) -> int:
        return self.document.pageCount()

    def page_size(self) -> QPageSize:
        points = self.document.pagePointSize(0)
        return QPageSize(QSizeF(points.width(), points.height()), QPageSize.Unit.Point, "",
                         QPageSize.SizeMatchPolicy.FuzzyMatch)

    def paint(self, printer: QPrinter) -> None:
        """Paint every page onto `printer` (a preview's, a real one's or a PDF file's)."""
        printer.setPageSize(self.page_size())
        printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            raise NeedleDeskError("the printer could not be started")
        try:
            dpi = min(printer.resolution(), MAX_DPI)
            for page in range(self.count):
                if page:
                    printer.newPage()
                points = self.document.pagePointSize(page)
                size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
                image = self.document.render(page, size)
                target = painter.viewport()
                scaled = size.scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.drawImage(QRect(target.topLeft(), scaled), image)
        finally:
            painter.end()


def print_to_pdf_file(data: bytes, path: str) -> int:
    """Send the PDF through the print path into a PDF file; returns the pages printed."""
    pages = PdfPages(data)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(path)
    printer.setResolution(MAX_DPI)
    pages.paint(printer)
    return pages.count


def preview(parent: QWidget, data: bytes, title: str) -> None:
    """The print preview, showing the very PDF that export writes."""
    pages = PdfPages(data)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintPreviewDialog(printer, parent)
    dialog.setWindowTitle(title)
    dialog.paintRequested.connect(pages.paint)
    dialog.resize(900, 1000)
    try:
        dialog.exec()
    finally:
        # The dialog holds every page image: free it now, not when its parent closes.
        dialog.paintRequested.disconnect(pages.paint)
        dialog.deleteLater()


def build_off_thread(parent: QWidget, repo, make: Callable, then: Callable[[bytes], object],
                     what: str) -> None:
    """Build a PDF with `make(reader_repo)` on a worker thread, then call `then(pdf)` on
    the UI thread, unless `parent` was closed and deleted meanwhile. A busy cursor shows
    meanwhile; a failure becomes a message. When some text of the PDF (a name in a script
    no font of this PC has) would print as empty boxes, a message says so first, naming
    the text and what to install."""
    from PySide6.QtWidgets import QApplication

    from needledesk.ui.tasks import Tasks

    def work() -> tuple[bytes, str | None]:
        from needledesk.reports.fonts import missing_characters, unprintable

        reader = repo.reader()
        try:
            with missing_characters() as missing:
                data = make(reader)
        finally:
            reader.db.close()
        return data, next(filter(None, map(unprintable, missing)), None)

    def done(result: tuple[bytes, str | None]) -> None:
        data, note = result
        if note:  # say so before the preview or the export shows the empty boxes
            QMessageBox.warning(parent, "NeedleDesk", note)
        then(data)

    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    Tasks.run(work, done, show_failure(parent, what), owner=parent,
              on_finish=QApplication.restoreOverrideCursor)


#: QSettings key: the folder the last PDF was exported to (per PC).
EXPORT_FOLDER_KEY = "export_folder"


def export_folder() -> Path:
    """Where the next export is offered: the folder of the last one, while it exists, else
    the user's Documents folder (else their home folder), never the program's own folder."""
    from PySide6.QtCore import QSettings, QStandardPaths

    last = str(QSettings().value(EXPORT_FOLDER_KEY, "") or "")
    if last and Path(last).is_dir():
        return Path(last)
    documents = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def choose_save_path(parent: QWidget, default_name: str) -> str | None:
    """Ask where to save, starting in `export_folder()`; the folder chosen is remembered."""
    from PySide6.QtCore import QSettings

    start = export_folder() / Path(default_name).name
    path, _ = QFileDialog.getSaveFileName(parent, "Export PDF", str(start), "PDF (*.pdf)")
    if not path:
        return None
    QSettings().setValue(EXPORT_FOLDER_KEY, str(Path(path).parent))
    return path


def confirm_saved(parent: QWidget, path: str | Path, what: str = "The PDF") -> QMessageBox:
    """Say where the file went, with a button that opens its folder (non-blocking)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    path = Path(path)
    box = QMessageBox(QMessageBox.Icon.Information, "Saved",
                      f"{what} was saved as {path.name} in {path.parent}.", parent=parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    opener = box.addButton("Open folder", QMessageBox.ButtonRole.ActionRole)
    box.setEscapeButton(box.addButton(QMessageBox.StandardButton.Ok))   # Esc closes it
    opener.clicked.connect(
        lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))))
    box.open()
    return box


def show_failure(parent: QWidget, what: str) -> Callable[[Exception], None]:
    def report(exc: Exception) -> None:
        QMessageBox.warning(parent, "NeedleDesk", f"{what} failed: {exc}")
    return report
