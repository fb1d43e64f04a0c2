"""The case domain: cases, their events, comments, attachments and the status workflow."""
