"""Imports every capability's tables so ``Base.metadata`` is complete (Alembic, create_all)."""

from __future__ import annotations

import microcred.accounts.models
import microcred.assessment.models
import microcred.catalogue.models
import microcred.credentials.models
import microcred.endorsements.models
import microcred.ledger.models
import microcred.lti.models
import microcred.mail.models
import microcred.notifications.models
import microcred.obapi.models
import microcred.outcomes.models
import microcred.pathways.models
import microcred.skills.models
import microcred.talent.models
import microcred.wallet.models
import microcred.webhooks.models  # noqa: F401
from microcred.db.base import Base

metadata = Base.metadata
