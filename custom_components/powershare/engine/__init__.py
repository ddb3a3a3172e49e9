"""Balancing engine: the site model and the allocation (pure, synchronous, Home Assistant-free)."""
