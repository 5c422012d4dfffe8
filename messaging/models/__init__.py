"""Models of the messaging app, one module per area:

- ``core``: campaigns, messages, statuses, counters, gateway submissions (the engine);
- ``content``: sender names, message templates, moderation templates, schedules,
  greetings and short links (composing).
"""

from .carrier import *  # noqa: F403
from .content import *  # noqa: F403
from .core import *  # noqa: F403
from .core import (  # noqa: F401  (names used by other modules)
    PENDING_STATUSES,
    REFUNDABLE_STATUSES,
    STATUS_RANK,
    S,
    statuses_before,
)
