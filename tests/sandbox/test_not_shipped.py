"""The sandbox is never shipped: the wheel holds no file of it, and production settings neither
install it, route to it nor collect its static files."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version

import pytest

from tests.support.production import manage_in_production
from tests.workers import REPO

SANDBOX_FILES = "waco/sandbox/"


def _packaged_folders() -> list[str]:
    """The top-level folders the wheel is built from, as pyproject.toml names them."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return [pattern.rstrip("*") for pattern in config["tool"]["setuptools"]["packages"]["find"]["include"]]


def _build_isolation_flags() -> list[str]:
    # pyproject.toml needs setuptools >= 77 (its SPDX `license`); an older one in this
    # environment means pip builds in an isolated environment with a newer one (a few seconds more).
    major = int(version("setuptools").split(".")[0])
    return ["--no-build-isolation"] if major >= 77 else []


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    """Build the wheel from a copy of the sources (a build writes build/ and *.egg-info beside them)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in _packaged_folders():
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *_build_isolation_flags(), "-w", str(out)]
    result = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [wheel] = out.glob("waco-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_holds_no_sandbox_file(wheel_names):
    assert [name for name in wheel_names if name.startswith(SANDBOX_FILES)] == []


def test_the_wheel_holds_the_rest_with_templates_and_static_files(wheel_names):
    """So the sandbox's absence is the exclusion's doing, not an empty wheel's."""
    for name in (
        "waco/settings.py",
        "waco/cloud_api/client.py",
        "checkout/templates/checkout/base.html",
        "catalog/static/catalog/demo/bag.png",
        "conversations/models.py",
    ):
        assert name in wheel_names


def test_collectstatic_under_production_settings_collects_no_sandbox_file(tmp_path):
    static_root = tmp_path / "static"
    result = manage_in_production("collectstatic", "--noinput", env={"STATIC_ROOT": str(static_root)})
    assert result.returncode == 0, result.stderr
    collected = [path.relative_to(static_root).as_posix() for path in static_root.rglob("*") if path.is_file()]
    assert "admin/css/base.css" in collected
    assert [path for path in collected if "sandbox" in path] == []


def test_production_settings_neither_install_nor_route_to_the_sandbox():
    code = (
        "from django.apps import apps; from django.urls import Resolver404, resolve\n"
        "print(apps.is_installed('waco.sandbox'))\n"
        "for path in ('/sandbox/config', '/sandbox/graph/outbox', '/demo/chat/', '/sandbox/stripe/v1/events'):\n"
        "    try:\n"
        "        resolve(path); print(path, 'routed')\n"
        "    except Resolver404:\n"
        "        print(path, 'absent')\n"
    )
    result = manage_in_production("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-5:] == [
        "False",
        "/sandbox/config absent",
        "/sandbox/graph/outbox absent",
        "/demo/chat/ absent",
        "/sandbox/stripe/v1/events absent",
    ]
