"""Spreadsheet (CSV/formula) injection: the one rule for every table we write.

A spreadsheet evaluates a CSV cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (OWASP "CSV Injection") —
``-2+3+cmd|' /C calc'!A0`` runs a program, ``=HYPERLINK(…)`` leaks data.  Every
CSV the product writes passes each cell through :func:`csv_safe` (use
:func:`csv_writer`): such a cell gets a leading apostrophe, which spreadsheets
take as "text" and do not show.  A phone number or a plain number (``+7 916
123-45-67``, ``-15``, ``-2,50``) stays as it is: it contains nothing a formula
could do harm with.

In .xlsx files text is written as a string cell (inline string), which no
spreadsheet evaluates: reports.xlsx and contacts.exporter write every text
that way, and openpyxl — which turns a string starting with ``=`` into a
formula — gets its text cells through :func:`xlsx_text`.
"""

import csv
import re

from openpyxl.cell import WriteOnlyCell

# The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r")
# What may start with "+" or "-" and stay: a phone number (digits, spaces,
# brackets, hyphens) or a plain negative number — no function, reference or
# operator a formula could do anything with.
_PHONE_OR_NUMBER = re.compile(r"\+\d[\d ()\-]*|-\d+(?:[.,]\d+)?")


def csv_safe(value):
    """The value as a CSV cell no spreadsheet evaluates; non-strings (numbers,
    dates, None) are returned unchanged."""
    if value.__class__ is not str or not value or value[0] not in FORMULA_STARTS:
        return value
    if _PHONE_OR_NUMBER.fullmatch(value):
        return value
    return "'" + value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([csv_safe(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(file, **kwargs):
    """``csv.writer(file, **kwargs)`` whose every cell goes through
    :func:`csv_safe` — header cells too (they can be user-named columns)."""
    return _SafeWriter(csv.writer(file, **kwargs))


def xlsx_text(worksheet, value):
    """An openpyxl write-only cell holding ``value`` as text, never a formula."""
    cell = WriteOnlyCell(worksheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
