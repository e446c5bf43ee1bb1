"""Print pip constraints that hold every requirement of pyproject.toml at its lower bound (`name>=X` -> `name==X`).

`make venv-oldest` installs the package under these constraints, so the lower bounds pyproject.toml states are the
versions CI actually runs. A requirement without a `>=` bound is an error: it would leave the oldest set open.

    python scripts/lower_bounds.py > constraints.txt
"""

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[[^\]]*\])?(?P<specifiers>[^;]*)(?P<marker>;.*)?$")


def lower_bound_pins(requirements: list[str]) -> list[str]:
    pins = []
    for requirement in requirements:
        match = REQUIREMENT.match(requirement.replace(" ", ""))
        bound = re.search(r">=([^,]+)", match["specifiers"]) if match else None
        if bound is None:
            raise SystemExit(f"{PYPROJECT}: {requirement!r} has no lower bound (>=X); every requirement needs one")
        pins.append(f"{match['name']}=={bound[1]}{match['marker'] or ''}")
    return pins


def main() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    sys.stdout.write("".join(f"{pin}\n" for pin in lower_bound_pins(requirements)))


if __name__ == "__main__":
    main()
