"""Constants shared by Powershare's Home Assistant modules."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "powershare"
LOGGER: Final = logging.getLogger(__package__)

# The kinds of config entry Powershare creates: one per charger, per meter and per group.
ENTRY_KIND_CHARGER: Final = "charger"
ENTRY_KIND_METER: Final = "meter"
ENTRY_KIND_GROUP: Final = "group"
ENTRY_KINDS: Final = (ENTRY_KIND_CHARGER, ENTRY_KIND_METER, ENTRY_KIND_GROUP)
