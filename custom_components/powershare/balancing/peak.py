"""The capacity tariff in Home Assistant: the root group's settings, the grid meter, storage.

`PeakKeeper` feeds the `peak.PeakTracker` the root meter's readings and the chargers' draw each
cycle, and gives the engine the budget (`Snapshot.peak_power_w`). The month's peak is saved in
Home Assistant's storage (`.storage/powershare.peak`) whenever a window closes, so a restart
keeps it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.powershare.const import (
    CONF_PEAK_FLOOR,
    CONF_PEAK_LIMIT,
    CONF_PEAK_MODE,
    CONF_PEAK_WINDOW,
    DOMAIN,
    LOGGER,
)
from custom_components.powershare.devices.charger import NOMINAL_VOLTAGE_V
from custom_components.powershare.engine import Network
from custom_components.powershare.engine.network import load_power_amps
from custom_components.powershare.peak import (
    DEFAULT_FLOOR_W,
    PeakBudget,
    PeakMode,
    PeakRecord,
    PeakSample,
    PeakSettings,
    PeakTracker,
    month_of,
)
from custom_components.powershare.settings import setting

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from custom_components.powershare.devices.meters import MeterReading

STORE_VERSION: Final = 1


def connection_kw(fuse: Sequence[float], network: Network) -> float:
    """Return the most the connection's fuses carry, in kW (the highest peak limit)."""
    phases = 1 if network is Network.SINGLE_PHASE else 3
    return load_power_amps(network, sum(fuse[:phases])) * NOMINAL_VOLTAGE_V / 1000.0


def peak_settings(root: ConfigEntry[Any]) -> PeakSettings:
    """Return the capacity tariff the root group is set to (off when its settings are broken).

    The fixed limit defaults to the floor: choosing "fixed" before setting a limit is safe.
    """
    floor_kw = setting(root, CONF_PEAK_FLOOR)
    floor_w = DEFAULT_FLOOR_W if floor_kw is None else float(floor_kw) * 1000.0
    limit_kw = setting(root, CONF_PEAK_LIMIT)
    try:
        return PeakSettings(
            mode=PeakMode(setting(root, CONF_PEAK_MODE, PeakMode.OFF.value)),
            limit_w=floor_w if limit_kw is None else float(limit_kw) * 1000.0,
            floor_w=floor_w,
            window_min=int(setting(root, CONF_PEAK_WINDOW, 15)),
        )
    except ValueError as err:
        LOGGER.warning("Capacity tariff settings of %s not used: %s", root.title, err)
        return PeakSettings()


class PeakKeeper:
    """The site's peak budget, kept across cycles and restarts."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start without settings (mode off) until the root group is known."""
        self.tracker = PeakTracker(PeakSettings())
        self.budget: PeakBudget | None = None
        """The budget of the last cycle (None: mode off)."""
        self.house_peak: PeakRecord | None = None
        """This month's last window the house alone took over the limit (a repair says so)."""
        self._store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, f"{DOMAIN}.peak")
        self._loaded = False
        self._closed: PeakRecord | None = None

    @property
    def settings(self) -> PeakSettings:
        """The capacity tariff in force."""
        return self.tracker.settings

    async def async_load(self) -> None:
        """Take back the month's peak saved before a restart (once)."""
        if self._loaded:
            return
        self._loaded = True
        stored = await self._store.async_load()
        if isinstance(stored, dict):
            self.tracker.restore(stored)

    def configure(self, settings: PeakSettings) -> None:
        """Use new settings (the month's peak stays; the window so far, while it is one)."""
        before = self.tracker.settings
        if settings.window_min != before.window_min or before.mode is PeakMode.OFF:
            # Another length is another window; after a time off, the one seen last is old.
            self.tracker.forget_window()
        self.tracker.settings = settings
        if settings.mode is PeakMode.OFF:
            self.budget = None

    def update(
        self,
        reading: MeterReading | None,
        ev_power_w: float,
        now: datetime,
        *,
        meter_has_chargers: bool = True,
        house_power_w: float | None = None,
        house_known: bool = True,
    ) -> PeakBudget | None:
        """Take the root meter's latest reading; return the budget for the engine.

        A root meter on the house circuit only (`meter_has_chargers` False) misses the cars:
        their draw is added, and its counters and own averages, which miss them too, are not
        used. `house_known` False: the house's load is not told apart this cycle (see
        `PeakSample.house_known`).
        """
        if self.settings.mode is PeakMode.OFF:
            self.budget = None
            return None
        tracker = self.tracker
        month = tracker.month
        import_w = 0.0
        if reading is not None:
            import_w = reading.total_power_w + (0.0 if meter_has_chargers else ev_power_w)
            sample = PeakSample(
                at=dt_util.as_local(dt_util.utc_from_timestamp(reading.measured_at)),
                import_power_w=import_w,
                ev_power_w=ev_power_w,
                house_power_w=house_power_w,
                house_known=house_known,
            )
            if meter_has_chargers:
                sample = replace(
                    sample,
                    import_energy_kwh=reading.import_energy_kwh,
                    average_demand_w=reading.average_demand_w,
                    month_peak_w=reading.month_peak_w,
                )
            tracker.observe(sample)
        if tracker.month != month:
            self.house_peak = None
        closed = tracker.last_closed
        if closed is not None and closed is not self._closed:
            self._closed = closed
            self._store.async_delay_save(tracker.as_dict)  # once a window: no need to wait
            limit = tracker.last_limit_w
            over = limit is not None and closed.average_w > limit
            started = dt_util.as_local(dt_util.utc_from_timestamp(closed.start))
            this_month = month_of(started) == tracker.month  # not last month's last window
            if closed.whole and closed.by_house and over and this_month:
                self.house_peak = closed
        self.budget = tracker.budget(now, import_w)
        return self.budget
