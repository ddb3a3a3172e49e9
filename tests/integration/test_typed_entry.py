"""hassfest's runtime-data and strict-typing rules: every platform takes the typed entry.

hassfest cannot run offline; this mirrors its check: the `entry` of each platform's
`async_setup_entry`, of the diagnostics and of the options flow is `PowershareConfigEntry`
(`ConfigEntry[PowershareRuntimeData]`), never a bare or `Any` config entry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.const import DOMAIN
from custom_components.powershare.coordinator import GroupRuntimeData, charger_data

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "powershare"
TYPED = "PowershareConfigEntry"
CHECKED = {
    "__init__.py": ("async_setup_entry", "async_unload_entry"),
    "binary_sensor.py": ("async_setup_entry",),
    "button.py": ("async_setup_entry",),
    "datetime.py": ("async_setup_entry",),
    "number.py": ("async_setup_entry",),
    "select.py": ("async_setup_entry",),
    "sensor.py": ("async_setup_entry",),
    "switch.py": ("async_setup_entry",),
    "time.py": ("async_setup_entry",),
    "diagnostics.py": ("async_get_config_entry_diagnostics",),
    "config_flow/__init__.py": ("async_get_options_flow",),
}


def _entry_annotations(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Return the annotation of each named function's config entry parameter."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            parameter = next(arg for arg in node.args.args if arg.arg in ("entry", "config_entry"))
            assert parameter.annotation is not None, f"{path.name}: {node.name} is untyped"
            found[node.name] = ast.unparse(parameter.annotation)
    return found


@pytest.mark.parametrize(("module", "functions"), sorted(CHECKED.items()))
def test_each_platform_takes_the_typed_entry(module: str, functions: tuple[str, ...]) -> None:
    annotations = _entry_annotations(INTEGRATION / module, functions)
    assert set(annotations) == set(functions), (
        f"{module}: missing {set(functions) - set(annotations)}"
    )
    assert all(annotation == TYPED for annotation in annotations.values()), annotations


def test_every_platform_is_checked() -> None:
    platforms = {
        path.name
        for path in INTEGRATION.glob("*.py")
        if "async_setup_entry" in path.read_text(encoding="utf-8")
    }
    assert platforms <= set(CHECKED)


def test_charger_data_refuses_another_kind_of_entry() -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Main fuse", data={})
    entry.runtime_data = GroupRuntimeData(applied_settings={})
    with pytest.raises(TypeError, match="Main fuse is not a charger entry"):
        charger_data(entry)
