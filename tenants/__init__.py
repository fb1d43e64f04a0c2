"""Tenants (hosts and brands), their users, teams, API clients, partnerships and catalogs."""
