"""The sandbox is an outside service: it may import Django and itself, never Waco."""

import ast
from pathlib import Path

import waco.sandbox

SANDBOX_DIR = Path(waco.sandbox.__file__).resolve().parent
ALLOWED = "waco.sandbox"


def _is_forbidden(module: str) -> bool:
    return (module == "waco" or module.startswith("waco.")) and not (
        module == ALLOWED or module.startswith(ALLOWED + ".")
    )


def _package_of(path: Path) -> list[str]:
    relative = path.relative_to(SANDBOX_DIR.parent.parent).with_suffix("")
    parts = list(relative.parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def forbidden_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from waco import channels" imports waco.channels.
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
            if module == "waco":
                found += [t for t in targets[1:] if _is_forbidden(t)]
            elif _is_forbidden(module):
                found.append(module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found += [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and _is_forbidden(a.value)
            ]
    return [f"{path.relative_to(SANDBOX_DIR)}: {name}" for name in found]


def test_sandbox_imports_no_other_waco_module():
    files = sorted(SANDBOX_DIR.rglob("*.py"))
    assert len(files) > 10
    problems = [problem for path in files for problem in forbidden_imports(path)]
    assert problems == []


def test_isolation_check_catches_each_import_form(tmp_path, monkeypatch):
    # The checker itself must see every way of importing Waco, or the test above proves nothing.
    samples = {
        "a.py": "import waco.channels\n",
        "b.py": "from waco.contacts.models import Contact\n",
        "c.py": "from waco import crypto\n",
        "d.py": "from .. import config\n",
        "e.py": "importlib.import_module('waco.ingest')\n",
    }
    fake = tmp_path / "waco" / "sandbox"
    fake.mkdir(parents=True)
    monkeypatch.setattr("tests.sandbox.test_isolation.SANDBOX_DIR", fake)
    for name, source in samples.items():
        (fake / name).write_text(source)
        assert forbidden_imports(fake / name), name
    (fake / "ok.py").write_text(
        "from waco.sandbox import models\nfrom . import graph\nfrom waco import sandbox\n"
    )
    assert forbidden_imports(fake / "ok.py") == []
