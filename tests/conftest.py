"""Fixtures shared by every test folder."""

from __future__ import annotations

# Import the integration first, so that `custom_components` resolves to this repository's folder
# and not to the test plugin's own testing_config/custom_components (home-assistant.md pitfall).
import custom_components.powershare  # noqa: F401  # isort: skip

# No test hangs the suite: a hard backstop behind pytest-timeout (see the module).
pytest_plugins = ("tests.timeouts",)
