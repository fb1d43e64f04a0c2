"""The kernel: settings, database, errors, the event interface and auth primitives.

Imports nothing else of CaseHub.
"""
