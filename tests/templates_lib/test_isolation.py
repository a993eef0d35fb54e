"""templates_lib depends downwards only: never on outbound, conversations, checkout or catalog."""

import ast
from pathlib import Path

import templates_lib

PACKAGE = Path(templates_lib.__file__).parent
UPWARD = {"outbound", "conversations", "checkout", "catalog"}


def test_templates_lib_imports_no_app_above_it():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in UPWARD, f"{path.relative_to(PACKAGE)} imports {name}"
