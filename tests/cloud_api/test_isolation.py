"""waco.cloud_api knows no Django model and imports no Waco app: only settings from Django."""

import ast
from pathlib import Path

import waco.cloud_api

PACKAGE = Path(waco.cloud_api.__file__).parent
ALLOWED_THIRD_PARTY = {"requests", "urllib3", "django.conf"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_cloud_api_imports_only_itself_settings_and_http_libraries():
    for path in PACKAGE.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top == "waco":
                assert name.startswith("waco.cloud_api"), f"{path.name} imports {name}"
            elif top in {"django", "requests", "urllib3"}:
                assert name in ALLOWED_THIRD_PARTY or top != "django", f"{path.name} imports {name}"
