"""Device layer: Modbus and HTTP drivers for chargers and meters (async, Home Assistant-free)."""
