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
from signbind_hf.hub import card_template

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
PACKAGES = ("signbind_hf", "signbind_cli")
ASSETS = REPO / "signbind_hf" / "assets"
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
    assert set(PROJECT["optional-dependencies"]) == {"video", "app", "dev", "openvino"}
    assert PROJECT["scripts"] == {"signbind": "signbind_cli.main:main"}


def test_every_requirement_has_a_lower_bound_and_no_pin():
    for requirement in _all_requirements():
        assert ">=" in requirement, f"{requirement!r} needs a lower bound"
        assert "==" not in requirement, f"{requirement!r} is pinned; requirements-lock.txt pins, the package does not"


# The libraries whose API we reach into (subclasses, trainer arguments, hub helpers): a next major release is a set we
# know nothing about, so the ranges stop before it.
API_LIBRARIES = (
    "torch", "transformers", "datasets", "peft", "trl", "accelerate", "evaluate", "huggingface-hub", "gradio", "mediapipe",
    "openvino", "nncf",
)  # fmt: skip


def test_libraries_whose_api_we_use_stop_before_their_next_major_release():
    requirements = {_requirement_name(requirement): requirement for requirement in _all_requirements()}
    for name in API_LIBRARIES:
        lower = re.search(r">=\s*(\d+)(?:\.(\d+))?", requirements[name])
        upper = re.search(r"<\s*(\d+)(?:\.(\d+))?", requirements[name])
        assert upper, f"{requirements[name]!r} needs an upper bound below the next major release"
        assert int(upper[1]) == int(lower[1]) + 1, requirements[name]
        assert upper[2] in (None, "0"), requirements[name]


def _locked() -> dict[str, str]:
    lines = (REPO / "requirements-lock.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_the_lock_pins_every_requirement_inside_its_range():
    from packaging.requirements import Requirement

    locked = _locked()
    assert "signbind-hf" not in locked  # the package itself is installed from the checkout
    assert locked["torch"] == "2.13.0"  # the Makefile's TORCH_REQUIREMENT, without the local build's label
    for text in _all_requirements():
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = _requirement_name(text)
        assert name in locked, f"{name} is a requirement but not in requirements-lock.txt: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements-lock.txt has {name}=={locked[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_lower_bounds_script_pins_every_requirement_at_its_lower_bound():
    constraints = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lower_bounds.py")], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(constraints) == len(_all_requirements())
    assert (
        "transformers=="
        + re.search(r">=([^,]+)", next(r for r in _all_requirements() if r.startswith("transformers")))[1]
        in constraints
    )


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


@pytest.mark.slow
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
    assets = {path.relative_to(REPO).as_posix() for path in ASSETS.iterdir() if path.is_file()}
    assert "signbind_hf/assets/face_landmark.tflite" in assets
    expected |= assets
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


def test_make_venv_installs_the_lock_torch_first_then_the_package_without_resolving(tmp_path):
    dry_run = _make("-n", "venv", f"VENV={tmp_path / 'venv'}")
    assert dry_run.returncode == 0, dry_run.stderr
    commands = dry_run.stdout.splitlines()
    torch_line = next(index for index, line in enumerate(commands) if '"torch==2.13.0"' in line)
    lock_line = next(
        index for index, line in enumerate(commands) if "--no-deps --requirement requirements-lock.txt" in line
    )
    package_line = next(
        index for index, line in enumerate(commands) if "--no-deps --no-build-isolation --editable" in line
    )
    assert "--constraint requirements-lock.txt" in commands[torch_line]
    assert torch_line < lock_line < package_line
    assert "torchvision" not in dry_run.stdout


def test_make_venv_is_a_no_op_until_pyproject_or_the_lock_changes(tmp_path):
    assert "$(STAMP): pyproject.toml $(LOCK)" in (REPO / "Makefile").read_text()
    stamp = tmp_path / "venv" / ".installed"
    stamp.parent.mkdir()
    stamp.touch()
    sources = [(REPO / name).stat().st_mtime for name in ("pyproject.toml", "requirements-lock.txt")]
    os.utime(stamp, (max(sources) + 10, max(sources) + 10))
    assert _make("-q", "venv", f"VENV={stamp.parent}").returncode == 0  # up to date: nothing to run
    os.utime(stamp, (min(sources) - 10, min(sources) - 10))
    assert _make("-q", "venv", f"VENV={stamp.parent}").returncode == 1  # the sources are newer: reinstall


def test_compat_legs_install_other_releases_and_run_only_the_compat_tests(tmp_path):
    newest = _make("-n", "test-newest").stdout
    assert "--upgrade --upgrade-strategy eager" in newest
    assert "requirements-lock.txt" not in newest  # resolved from pyproject.toml alone
    assert "--constraint build/torch-constraint.txt --editable" in newest  # but torch held at the local build
    oldest = _make("-n", "test-oldest").stdout
    assert "--constraint build/oldest-constraints.txt" in oldest
    for dry_run in (newest, oldest):
        assert "-m compat" in dry_run
        assert '"torch==2.13.0"' in dry_run


def _run_ci(tmp_path: Path, target: str, output: str, status: int) -> subprocess.CompletedProcess:
    """.ci/run with a stand-in `make`: `target` prints `output` and exits `status`; every other step passes."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_make = fake_bin / "make"
    fake_make.write_text(
        "#!/bin/sh\n"
        f"if [ \"$1\" = {target} ]; then echo '{output}'; exit {status}; fi\n"
        "case \"$1\" in\n  wheel-check) echo 'check_wheel: ok';;\n  *) echo '3 passed in 1.00s';;\nesac\n"
    )
    fake_make.chmod(0o755)
    environment = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", str(REPO / ".ci" / "run")], capture_output=True, text=True, env=environment)


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
    result = _run_ci(tmp_path, "test", make_output, make_status)
    assert result.returncode == expected_status, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("failing_target", "output", "status"),
    [("test-newest", "1 failed, 2 passed in 1.00s", 1), ("test-oldest", "", 0), ("wheel-check", "", 1)],
)
def test_ci_run_fails_when_a_compat_leg_or_the_wheel_check_fails(tmp_path, failing_target, output, status):
    result = _run_ci(tmp_path, failing_target, output, status)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"make {failing_target}" in result.stderr
