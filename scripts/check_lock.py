"""Fail when the lock files no longer match pyproject.toml (run by `make lint`, so by CI).

pip installs the lock with `--require-hashes` and the package with `--no-deps`, so nothing checks
at install time that a dependency added to pyproject.toml, or a range changed there, made it into
requirements/*.txt. This does, in a second, without the network: every requirement of the
package (runtime, every extra, the build backend) must be pinned in requirements/dev.txt at a
version its range allows, and requirements/runtime.txt must pin the same versions as dev.txt
(the image runs what the tests ran). The fix is always `make lock`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, Version]:
    """The `name==version` lines of a pip-compile output file."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = Version(match.group(2))
    return found


def declared(pyproject: dict) -> list[tuple[str, Requirement]]:
    """Every requirement pyproject.toml states, with where it says it."""
    project = pyproject["project"]
    found = [("dependencies", Requirement(text)) for text in project.get("dependencies", [])]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"optional-dependencies.{extra}", Requirement(text)) for text in texts]
    found += [("build-system.requires", Requirement(text)) for text in pyproject["build-system"]["requires"]]
    return found


def problems() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = pins(ROOT / "requirements" / "dev.txt")
    runtime = pins(ROOT / "requirements" / "runtime.txt")
    found = []
    for where, requirement in declared(pyproject):
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # for another platform or Python than the lock was resolved for
        name = canonicalize_name(requirement.name)
        if name not in dev:
            found.append(f"{where}: {requirement} is not in requirements/dev.txt")
        elif not requirement.specifier.contains(dev[name], prereleases=True):
            found.append(f"{where}: {requirement} does not allow the locked {name}=={dev[name]}")
        if where == "dependencies" and name not in runtime:
            found.append(f"{where}: {requirement} is not in requirements/runtime.txt")
    for name, version in runtime.items():
        if dev.get(name) != version:
            found.append(f"requirements/runtime.txt pins {name}=={version}, requirements/dev.txt {dev.get(name)}")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"lock out of date: {problem}", file=sys.stderr)
    if found:
        print("run `make lock` and commit requirements/", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
