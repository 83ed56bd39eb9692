"""Every CSV the portal writes goes through here, so each is safe to open in a spreadsheet.

A cell that begins like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would run as one
in Excel, LibreOffice or Google Sheets (OWASP, "CSV Injection"): it is written with a leading apostrophe,
which spreadsheets show as text. Names and titles that begin that way are refused at input (registry files
must carry them exactly), so the guard matters for data typed before that rule and for any other free text.

No Django imports: the listing parser, a pure module, shares ``FORMULA_PREFIXES``.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(value: str) -> bool:
    return value[:1] in FORMULA_PREFIXES


def spreadsheet_safe(value: object) -> str:
    """``value`` as a cell's text, with a leading apostrophe when it would start a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if starts_like_formula(text) else text


def write_rows(rows: Iterable[Sequence[object]], *, header: Sequence[str] | None = None) -> str:
    """Rows (and an optional header) as CSV text with CRLF line ends, every cell spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow([spreadsheet_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def write_dicts(rows: Iterable[Mapping[str, object]], *, columns: Sequence[str]) -> str:
    """Dicts as CSV under ``columns`` (a header row first); a missing key is an empty cell."""
    return write_rows(([row.get(column, "") for column in columns] for row in rows), header=columns)
