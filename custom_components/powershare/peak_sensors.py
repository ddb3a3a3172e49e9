"""The root group's capacity-tariff sensors: what each shows of the peak budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.helpers.typing import StateType

    from .balancing.peak import PeakKeeper


@dataclass(frozen=True, kw_only=True)
class PeakSensorDescription(SensorEntityDescription):
    """A sensor of the capacity tariff's peak budget (root group only)."""

    value_fn: Callable[[PeakKeeper], StateType]


def _budget_figure(name: str) -> Callable[[PeakKeeper], StateType]:
    def value(keeper: PeakKeeper) -> StateType:
        budget = keeper.budget
        return None if budget is None else round(getattr(budget, name))

    return value


def _month_peak(keeper: PeakKeeper) -> StateType:
    tracker = keeper.tracker
    own = tracker.month_peak.average_w if tracker.month_peak is not None else None
    peaks = [peak for peak in (own, tracker.meter_month_peak_w) if peak is not None]
    return round(max(peaks)) if peaks else None


def _peak_power(precision: int = 2, **kwargs: Any) -> PeakSensorDescription:
    """Describe a power of the peak budget in kW: to 10 W (2 decimals), or `precision`."""
    return PeakSensorDescription(
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=precision,
        state_class=SensorStateClass.MEASUREMENT,
        **kwargs,
    )


PEAK_SENSORS: tuple[PeakSensorDescription, ...] = (
    # To 0.1 kW, as the projection: it moves every second while the window fills, and the
    # month's peak (to 10 W) is where the tariff's figure is read (README, The recorder).
    _peak_power(
        1, key="peak_average", translation_key="peak_average", value_fn=_budget_figure("average_w")
    ),
    # The projection moves with every watt the site draws now (times the window's rest):
    # to 0.1 kW, the figure a limit of a few kW is judged by, not a state every second.
    _peak_power(
        1,
        key="peak_projected",
        translation_key="peak_projected",
        value_fn=_budget_figure("projected_w"),
    ),
    PeakSensorDescription(
        key="peak_budget_left",
        translation_key="peak_budget_left",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # 0.1 kWh: the budget runs down with every Wh imported (10 Wh every 6 s at 6 kW).
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_budget_figure("left_wh"),
    ),
    _peak_power(key="month_peak", translation_key="month_peak", value_fn=_month_peak),
    _peak_power(
        key="peak_limit_in_force",
        translation_key="peak_limit_in_force",
        value_fn=lambda keeper: (
            None if keeper.tracker.limit_w is None else round(keeper.tracker.limit_w)
        ),
    ),
)
