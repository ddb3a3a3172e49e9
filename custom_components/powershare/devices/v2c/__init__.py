"""V2C Trydan EV charger over its local HTTP API (no authentication, plain HTTP).

- `GET http://<ip>/RealTimeData` answers one JSON object (captures in
  `tests/devices/v2c/captures/`, firmware 1.6.18, 2.1.7 and 2.5.0).
- `GET http://<ip>/write/<Key>=<int>` answers the body `OK` when the setting was taken.

The modules: `reading` decodes and checks the JSON (`V2CReading`, `V2CIdentity`,
`ChargeState`); `driver` holds `V2CTrydan`, which reads and writes one charger.

Confirmed from public sources (dgomes/pytrydan 0.8.1 and its fixtures; Home Assistant's `v2c`
integration and its fixture; evcc's `charger/trydan.go` and its tests; scabrero/pytrydan):
the two endpoints, `OK` as the write answer, the keys and their 0/1 switches, `ChargeState`
0/1/2, Intensity/MinIntensity/MaxIntensity checked 6-32 A, `IntensityMeasure_L1..3` and
`VoltageMeasure_L1..3` appearing with firmware 2.5.0, and that the charger's own dynamic
control must be held while another controller sets the current (evcc sets `PauseDynamic=1`
rather than `Dynamic=0`, because with `Dynamic=0` "the charger would then stop returning
power readings").

Not confirmed (no primary V2C document was readable; each point is a constant or a check in
`reading`, easy to change):

- `ChargeState` 4/5/6 (system failure or leak, control pilot or ground fault, ventilation
  required) are second-hand transcriptions of V2C's documentation; no capture shows them.
- What the charger answers to a refused write (an out-of-range value, an unknown key): the
  driver treats every answer but `OK` as a refusal.
- Whether `Intensity` can read below 6 A (0 is let through) and whether the charger clamps a
  write outside MinIntensity-MaxIntensity (the driver refuses it before sending).
- What `IntensityMeasure_L1..3` measure: on one installation with an external meter they were
  the grid's currents, not the car's (evcc-io/evcc#33154).
- Whether `ChargePower` is measured: in the 2.5.0 capture it equals Intensity x
  VoltageInstallation exactly (7 A x 230 V = 1610 W) while L1 read 11.09 A.
- Firmware 2.5.0 keeps `ChargeState` 2 after `Paused=1` (evcc's report; `charging` is false
  while paused).
"""

from __future__ import annotations

from .control import V2C_CAPABILITIES, V2CChargerReading, V2CControl
from .driver import DEFAULT_TIMEOUT_S, V2CTrydan, V2CWriteRefusedError
from .reading import (
    MAX_INTENSITY_A,
    MIN_INTENSITY_A,
    TRYDAN_KEYS,
    ChargeState,
    V2CIdentity,
    V2CReading,
    decode_identity,
    decode_reading,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_INTENSITY_A",
    "MIN_INTENSITY_A",
    "TRYDAN_KEYS",
    "V2C_CAPABILITIES",
    "ChargeState",
    "V2CChargerReading",
    "V2CControl",
    "V2CIdentity",
    "V2CReading",
    "V2CTrydan",
    "V2CWriteRefusedError",
    "decode_identity",
    "decode_reading",
]
