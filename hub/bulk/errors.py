"""Errors of bulk work: what is wrong with a file as a whole, and jobs that are not there."""

from hub.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType


class NotASpreadsheet(UnsupportedMediaType):
    slug = "not-a-spreadsheet"
    title = "Not a CSV or XLSX file"


class FileTooLarge(PayloadTooLarge):
    slug = "import-too-large"
    title = "The file is too large to import"


class UnreadableFile(Unprocessable):
    slug = "unreadable-file"
    title = "The file cannot be read"


class MissingColumns(Unprocessable):
    slug = "missing-columns"
    title = "Required columns are missing"


class InvalidMapping(Unprocessable):
    slug = "invalid-mapping"
    title = "Invalid column mapping"


class RowsRejected(Unprocessable):
    slug = "rows-rejected"
    title = "Some rows are not valid; nothing was imported"


class TooManyCases(Unprocessable):
    slug = "too-many-cases"
    title = "Too many cases in one request"
