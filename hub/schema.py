"""Every table of CaseHub, imported in one place so that Alembic sees the whole schema."""

from sqlmodel import SQLModel

metadata = SQLModel.metadata
