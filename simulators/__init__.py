"""Device emulators and a virtual site, shared by the tests, the demo and the benchmarks."""
