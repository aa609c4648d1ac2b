"""Pins live in pyproject.toml; environment.yml mirrors them."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[\[=<>!~ ]", req, maxsplit=1)[0].lower()


def test_environment_yml_mirrors_pyproject():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = {_name(r): r for r in pip_section if not r.startswith("-")}
    wanted = [d for d in conf["project"]["dependencies"] if not d.startswith("torch")]
    wanted += conf["project"]["optional-dependencies"]["dev"] + [
        conf["tool"]["mathlab"]["cpu-torch"]
    ]
    for req in wanted:
        assert env_pins.get(_name(req)) == req, (
            f"environment.yml should pin {req}, has {env_pins.get(_name(req))}"
        )
    assert set(env_pins) == {_name(r) for r in wanted}, (
        "environment.yml has pins pyproject.toml lacks"
    )
    for req in conf["tool"]["mathlab"]["no-deps"]:
        assert f"--no-deps {req}" in (REPO / "environment.yml").read_text()


def test_every_dependency_is_pinned_except_torch():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = conf["project"]["dependencies"] + sum(
        conf["project"]["optional-dependencies"].values(), []
    )
    for req in deps:
        if _name(req) == "torch":
            assert "<" in req and ">=" in req, (
                "torch is a range (vLLM needs 2.14, the CPU install pins 2.13)"
            )
        else:
            assert "==" in req, f"{req} is not pinned"


def test_installed_versions_match_pins():
    import importlib.metadata as md

    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    for req in conf["project"]["dependencies"] + conf["tool"]["mathlab"]["no-deps"]:
        if "==" in req:
            name, version = _name(req), req.split("==")[1]
            assert md.version(name) == version, (
                f"{name} {md.version(name)} installed, {version} pinned"
            )
    assert md.version("torch").startswith(conf["tool"]["mathlab"]["cpu-torch"].split("==")[1])
