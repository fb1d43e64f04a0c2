"""Reading an uploaded spreadsheet into a header and rows of text, whatever tool wrote it.

CSV comes as UTF-8 (with or without the BOM Excel writes), UTF-16 (Excel's "Unicode text"), or
GBK/GB18030 (most Chinese desktop tools and RPA exports); the delimiter is a comma, a tab or a
semicolon. XLSX is read with openpyxl in read-only mode, one row at a time, values as Excel last
showed them (formulas are never evaluated here). Anything else — an old .xls, a PDF, an image, a
zip that is no workbook — is refused as a whole with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from hub.bulk.errors import FileTooLarge, NotASpreadsheet, UnreadableFile

UNPACKED_RATIO = 20
"""A workbook may unpack to at most this many times the upload limit (zip bombs)."""

SIGNATURES = {
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "utf-16": "utf-16",
    "big5": "big5",
}
"""Encodings a caller may name; GBK and GB2312 are read as GB18030, their superset."""


@dataclass(slots=True)
class Sheet:
    """A spreadsheet as text: its header and its non-blank rows with their row numbers."""

    format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    sheet_name: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    notes: list[str] = field(default_factory=list)


def read_sheet(
    data: bytes,
    *,
    filename: str = "",
    encoding: str | None = None,
    sheet: str | None = None,
    max_bytes: int,
    max_rows: int,
) -> Sheet:
    """Read ``data``; raise :class:`NotASpreadsheet` (415), :class:`FileTooLarge` (413) or
    :class:`UnreadableFile` (422) for a file that cannot be imported as a whole."""
    if len(data) > max_bytes:
        raise FileTooLarge(f"imports are at most {max_bytes:,} bytes; this file has {len(data):,}")
    if not data.strip():
        raise UnreadableFile("the file is empty")
    for signature, what in SIGNATURES.items():
        if data.startswith(signature):
            raise NotASpreadsheet(f"this is {what}, not a CSV or XLSX spreadsheet")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows)
    return _read_csv(data, filename=filename, encoding=encoding, max_rows=max_rows)


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read with."""
    if declared:
        name = ENCODINGS.get(declared.strip().lower())
        if name is None:
            raise UnreadableFile(
                f"unknown encoding {declared!r}; use one of {', '.join(sorted(ENCODINGS))}",
                pointer="#/encoding",
            )
        try:
            return data.decode(name), name
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"the file is not valid {declared} (byte {exc.start + 1})", pointer="#/encoding"
            ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    first_error: UnicodeDecodeError | None = None
    for name in candidates:
        try:
            return data.decode(name), name
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise UnreadableFile(
        "the file is neither UTF-8 nor GBK/GB18030 text (first bad byte at offset "
        f"{first_error.start}); save it as CSV UTF-8 or as XLSX, or name its encoding",
        pointer="#/file",
    )


def _read_csv(data: bytes, *, filename: str, encoding: str | None, max_rows: int) -> Sheet:
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotASpreadsheet(f"{filename or 'the file'} is binary, not a CSV or XLSX spreadsheet")
    text, used = decode(data, encoding)
    if any(ch in text[:8192] for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
        raise NotASpreadsheet(f"{filename or 'the file'} is binary, not a CSV or XLSX spreadsheet")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        sheet = _collect(enumerate(reader, start=1), max_rows=max_rows, fmt="csv")
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV is malformed: {exc}") from exc
    sheet.encoding = {"utf-8-sig": "utf-8 (with BOM)", "gb18030": "gbk/gb18030"}.get(used, used)
    sheet.delimiter = delimiter
    return sheet


def _read_xlsx(data: bytes, *, sheet: str | None, max_bytes: int, max_rows: int) -> Sheet:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("the file looks like a workbook but is not a valid one") from exc
    if "xl/workbook.xml" not in names:
        raise NotASpreadsheet("this zip file is not an Excel workbook (.xlsx)")
    if unpacked > max_bytes * UNPACKED_RATIO:
        raise FileTooLarge(f"the workbook unpacks to {unpacked:,} bytes, too much to import")
    from openpyxl import load_workbook  # only imports load it (it is slow to import)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like: harmless
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to lxml's errors
        raise UnreadableFile(f"the workbook cannot be read: {type(exc).__name__}") from exc
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise UnreadableFile(
                    f"no sheet {sheet!r}; the workbook has {', '.join(workbook.sheetnames)}",
                    pointer="#/sheet",
                )
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        rows = (
            (number, [cell_text(value) for value in values])
            for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1)
        )
        result = _collect(rows, max_rows=max_rows, fmt="xlsx")
        result.sheet_name = worksheet.title
        if len(workbook.sheetnames) > 1:
            result.notes.append(f"read sheet “{worksheet.title}” (the first); name another")
        return result
    finally:
        workbook.close()


def cell_text(value: object) -> str:
    """A cell as the text a person sees: 13812345678 not 13812345678.0, 59.9 not 59.900001."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _collect(rows: Iterator[tuple[int, list[str]]], *, max_rows: int, fmt: str) -> Sheet:
    header: list[str] | None = None
    header_line = 1
    body: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if header is None:
            header, header_line = cells, number
            continue
        if len(body) >= max_rows:
            raise FileTooLarge(f"imports are at most {max_rows:,} rows; split the file")
        body.append((number, cells))
    if header is None:
        raise UnreadableFile("the file has no header row")
    while header and not header[-1]:
        header.pop()
    return Sheet(format=fmt, headers=header, rows=body, header_line=header_line)
