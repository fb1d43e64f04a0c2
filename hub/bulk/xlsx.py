"""A streaming XLSX writer: rows go out as they are written, whatever the number of rows.

An XLSX file is a zip of XML parts. The worksheet part is written row by row into a zip entry
that streams (zip data descriptors, zip64), and :meth:`XlsxStream.take` hands over the bytes
produced so far; the small parts that name the sheets are written last. Cells are inline strings
or numbers — never formulas — with the header row frozen. A sheet holds at most Excel's
1,048,576 rows; more continue on the next sheet.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any

MAX_ROWS = 1_048_576
MAX_CELL = 32_767
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text(value: str) -> str:
    """A string made safe for a cell: no characters XML forbids, escaped, within Excel's limit."""
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return value[:MAX_CELL].translate(_ESCAPES)


class _Sink(io.RawIOBase):
    """Collects what the zip writer writes until it is taken; never seekable."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._size

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class XlsxStream:
    def __init__(self, headers: Sequence[str], *, sheet_title: str = "Sheet") -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(
            self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        )
        self._headers = list(headers)
        self._refs = [column_letters(i) for i in range(max(len(headers), 1))]
        self._title = sheet_title
        self._sheets = 0
        self._rows = 0
        self._part: IO[bytes] | None = None
        self._pending: list[str] = []
        self._open_sheet()

    def _open_sheet(self) -> None:
        self._sheets += 1
        self._part = self._zip.open(f"xl/worksheets/sheet{self._sheets}.xml", "w", force_zip64=True)
        self._rows = 0
        self._pending.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<worksheet xmlns="{NS}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            "</sheetView></sheetViews><sheetData>"
        )
        self._row(self._headers)

    def _close_sheet(self) -> None:
        assert self._part is not None
        self._pending.append("</sheetData></worksheet>")
        self._flush()
        self._part.close()
        self._part = None

    def _row(self, values: Sequence[Any]) -> None:
        self._rows += 1
        number = self._rows
        refs = self._refs
        cells = []
        for i, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{refs[i]}{number}"
            if isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text(str(value))}</t></is></c>')
        self._pending.append(f'<row r="{number}">{"".join(cells)}</row>')

    def _flush(self) -> None:
        if self._pending and self._part is not None:
            self._part.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()

    def write_row(self, values: Sequence[Any]) -> None:
        if self._rows >= MAX_ROWS:
            self._close_sheet()
            self._open_sheet()
        self._row(values)
        if len(self._pending) >= 500:
            self._flush()

    def take(self) -> bytes:
        """The bytes of the file written so far (call between batches)."""
        self._flush()
        return self._sink.take()

    def close(self) -> bytes:
        """Finish the workbook and return its last bytes."""
        self._close_sheet()
        sheets = range(1, self._sheets + 1)
        name = self._title
        parts = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                + "".join(
                    f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for n in sheets
                )
                + "</Types>"
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>"
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<workbook xmlns="{NS}" xmlns:r="{REL_NS}"><sheets>'
                + "".join(
                    f'<sheet name="{text(name if n == 1 else f"{name} {n}")}" sheetId="{n}" '
                    f'r:id="rId{n}"/>'
                    for n in sheets
                )
                + "</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                'relationships">'
                + "".join(
                    f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/worksheet" '
                    f'Target="worksheets/sheet{n}.xml"/>'
                    for n in sheets
                )
                + f'<Relationship Id="rId{self._sheets + 1}" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/styles" '
                'Target="styles.xml"/></Relationships>'
            ),
            "xl/styles.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/>'
                '<name val="Calibri"/></font></fonts><fills count="2"><fill>'
                '<patternFill patternType="none"/></fill><fill><patternFill '
                'patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
                "<right/><top/><bottom/><diagonal/></border></borders>"
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
                '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
                'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle '
                'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
            ),
        }
        for part_name, content in parts.items():
            self._zip.writestr(part_name, content)
        self._zip.close()
        return self._sink.take()
