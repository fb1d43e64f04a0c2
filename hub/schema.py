"""Every table of CaseHub, imported in one place so that Alembic sees the whole schema."""

from sqlmodel import SQLModel

import hub.bulk.models
import hub.buyers.models
import hub.campaigns.models
import hub.cases.models
import hub.console.models
import hub.sla.models  # noqa: F401
import notifiers.models  # noqa: F401
import routing.models  # noqa: F401
import tenants.models  # noqa: F401
import webhooks.models  # noqa: F401

metadata = SQLModel.metadata
