"""Packaging and the developer loop: pyproject metadata, the built wheel, the Makefile's venv stamp, and .ci/run."""

import importlib.metadata
import importlib.resources
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import signbind_hf
from signbind_cli.main import main as cli_main
from signbind_hf.hub_publishing import card_template

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
PACKAGES = ("signbind_hf", "signbind_cli")
ASSETS = REPO / "signbind_hf" / "video" / "assets"
CARD_TEMPLATES = REPO / "signbind_hf" / "hub_cards"


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _all_requirements() -> list[str]:
    extras = PROJECT["optional-dependencies"]
    return [*PROJECT["dependencies"], *(requirement for group in extras.values() for requirement in group)]


def test_distribution_metadata():
    assert PROJECT["name"] == "signbind-hf"
    assert PROJECT["requires-python"] == ">=3.10"
    assert PROJECT["license"] == "Apache-2.0"
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert set(PROJECT["optional-dependencies"]) == {"video", "app", "dev"}
    assert PROJECT["scripts"] == {"signbind": "signbind_cli.main:main"}


def test_every_requirement_has_a_lower_bound_and_no_pin():
    for requirement in _all_requirements():
        assert ">=" in requirement, f"{requirement!r} needs a lower bound"
        assert "==" not in requirement, f"{requirement!r} is pinned; the Makefile pins torch, the package does not"


def test_no_torchvision_and_one_opencv():
    names = {_requirement_name(requirement) for requirement in _all_requirements()}
    assert not names & {"torchvision", "torchaudio"}
    # mediapipe brings opencv-contrib-python; a second OpenCV distribution would overwrite its cv2/ folder.
    assert "mediapipe" in names
    assert not names & {"opencv-python", "opencv-python-headless", "opencv-contrib-python-headless"}


def test_installed_console_script_is_the_cli():
    try:
        distribution = importlib.metadata.distribution(PROJECT["name"])
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("signbind-hf is not installed in this environment: run `make venv`")
    (entry_point,) = [point for point in distribution.entry_points if point.group == "console_scripts"]
    assert entry_point.name == "signbind"
    assert entry_point.load() is cli_main
    assert distribution.version == signbind_hf.__version__  # one source of truth, read by setuptools


def test_wheel_holds_both_packages_the_assets_and_the_licence(tmp_path):
    # Build from a copy, so that build/ and *.egg-info never land in the working tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    build_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build_wheel, "--wheel-dir", str(tmp_path), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("signbind_hf-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(name).decode() for name in names if name.endswith("entry_points.txt"))
    expected = {
        path.relative_to(source).as_posix() for package in PACKAGES for path in (source / package).rglob("*.py")
    }
    if ASSETS.is_dir():
        expected |= {path.relative_to(REPO).as_posix() for path in ASSETS.iterdir() if path.is_file()}
    card_templates = {path.relative_to(REPO).as_posix() for path in CARD_TEMPLATES.glob("*.md")}
    assert {"signbind_hf/hub_cards/model_card.md", "signbind_hf/hub_cards/dataset_card.md"} <= card_templates
    expected |= card_templates
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "signbind = signbind_cli.main:main" in entry_points


def test_card_templates_are_package_resources():
    # Read through importlib.resources (what an installed wheel serves), not from a path in the source tree; the wheel
    # test above checks they are in the wheel at the same place.
    for template in CARD_TEMPLATES.glob("*.md"):
        resource = importlib.resources.files("signbind_hf").joinpath("hub_cards", template.name)
        assert resource.read_text(encoding="utf-8") == card_template(template.name) == template.read_text()
    assert not (REPO / "hub_cards").exists()  # one place for the templates


def _make(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(REPO), *arguments], capture_output=True, text=True)


def test_make_venv_installs_pinned_torch_first_then_the_editable_package(tmp_path):
    dry_run = _make("-n", "venv", f"VENV={tmp_path / 'venv'}")
    assert dry_run.returncode == 0, dry_run.stderr
    commands = dry_run.stdout.splitlines()
    torch_line = next(index for index, line in enumerate(commands) if '"torch==2.13.0"' in line)
    package_line = next(index for index, line in enumerate(commands) if '-e ".[video,app,dev]"' in line)
    assert torch_line < package_line
    assert "torchvision" not in dry_run.stdout


def test_make_venv_is_a_no_op_until_pyproject_changes(tmp_path):
    stamp = tmp_path / "venv" / ".installed"
    stamp.parent.mkdir()
    stamp.touch()
    newer = (REPO / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (newer, newer))
    assert _make("-q", "venv", f"VENV={stamp.parent}").returncode == 0  # up to date: nothing to run
    older = newer - 20
    os.utime(stamp, (older, older))
    assert _make("-q", "venv", f"VENV={stamp.parent}").returncode == 1  # pyproject.toml is newer: reinstall


@pytest.mark.parametrize(
    ("make_output", "make_status", "expected_status"),
    [
        ("12 passed, 1 skipped in 3.21s", 0, 0),
        ("1 failed, 11 passed in 3.21s", 2, 2),
        ("no tests ran in 0.01s", 0, 1),  # a test target that forgot to fail on pytest's exit 5
        ("", 0, 1),
    ],
)
def test_ci_run_fails_on_a_failing_or_missing_test_run(tmp_path, make_output, make_status, expected_status):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_make = fake_bin / "make"
    fake_make.write_text(f"#!/bin/sh\necho '{make_output}'\nexit {make_status}\n")
    fake_make.chmod(0o755)
    environment = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(REPO / ".ci" / "run")], capture_output=True, text=True, env=environment)
    assert result.returncode == expected_status, result.stdout + result.stderr
