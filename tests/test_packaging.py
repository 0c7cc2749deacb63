"""Packaging: pyproject.toml, environment.yml and requirements.lock agree, and the layout is in place."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = {}
    for req in reqs:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[a-z,]+\])?==([^\s;]+)", req).groups()
        pins[name.lower()] = version
    return pins


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z,]+\])?==[0-9][^\s]*", req), f"not pinned exactly: {req}"


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section[-1].startswith("--editable ."), "environment.yml must end by installing the kit"
    env_pins = {}
    for req in pip_section[:-1]:
        name, version = req.split("==")
        name = name.split("[")[0]
        env_pins[name.lower()] = version
    assert env_pins == pyproject_pins()
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and python == "python=3.11"


def test_lock_file_agrees_with_direct_pins():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower()] = version
    for name, version in pyproject_pins().items():
        assert lock.get(name) == version, f"{name}: pyproject {version} != lock {lock.get(name)}"


def test_repository_layout():
    for path in ("notebooks", "relmkt_helpers/__init__.py", "data/README.md", "reports/README.md", "tests",
                 "environment.yml", "pyproject.toml", "README.md", "Makefile", ".ci/run", "ARCHITECTURE.md"):
        assert (ROOT / path).exists(), path
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def test_reports_folder_is_ignored_except_readme():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "reports/*" in ignore and "!reports/README.md" in ignore


def test_every_subpackage_is_packaged():
    """A non-editable install must ship every subpackage (clv, churn, economics, plots) and the templates."""
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(ROOT), **config["packages"]["find"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "relmkt_helpers").rglob("__init__.py")}
    assert on_disk <= found, f"not packaged: {sorted(on_disk - found)}"
    assert "templates/*.html" in config["package-data"]["relmkt_helpers"]
