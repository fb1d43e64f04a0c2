"""Campaigns: self-service forms a host publishes (prize checks, size/colour and address changes,
exchanges), whose submissions become cases that brands work as a batch."""
