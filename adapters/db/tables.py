"""Every table of the system, on one MetaData, for Alembic and the tests.

A part that adds tables declares them in its own ``adapters/db/*_schema.py``
module on ``adapters.db.schema.metadata`` and imports that module here.
"""

from adapters.db import (
    bank_schema,
    channel_schema,
    conversation_schema,
    dunning_schema,
    plan_schema,
    schema,
    staff_schema,
)
from adapters.db.schema import metadata

__all__ = [
    "bank_schema",
    "channel_schema",
    "conversation_schema",
    "dunning_schema",
    "metadata",
    "plan_schema",
    "schema",
    "staff_schema",
]
