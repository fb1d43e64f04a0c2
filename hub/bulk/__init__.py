"""Bulk work: spreadsheet imports run as jobs, bulk actions on many cases, streamed exports."""
