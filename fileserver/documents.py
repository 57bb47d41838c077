"""Documents: a PDF is accepted when pypdf can parse it (header, cross-reference table, page tree); it is
stored byte for byte as uploaded."""

from __future__ import annotations

import io
import logging
from typing import BinaryIO

from pypdf import PdfReader

from fileserver.http import FilesError

log = logging.getLogger("festivals.files.documents")
PDF_MIMETYPE = "application/pdf"


def check_pdf(data: bytes | BinaryIO) -> int:
    """The number of pages of a readable PDF (bytes, or a seekable file read without loading it whole), else
    FilesError(400)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    source.seek(0)
    head = source.read(1024)
    source.seek(0)
    if b"%PDF-" not in head:
        raise FilesError(400, "the file is not a PDF document")
    try:
        reader = PdfReader(source)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FilesError(400, "password-protected PDF documents are not accepted")
        pages = len(reader.pages)
        if pages:
            reader.pages[0].mediabox  # noqa: B018 - the first page object must resolve too
    except FilesError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure means a broken document, not a server error
        log.info("pdf refused: %s: %s", type(exc).__name__, exc)
        raise FilesError(400, "the PDF document could not be read (damaged or not a PDF)") from None
    if pages < 1:
        raise FilesError(400, "the PDF document has no pages")
    return pages
