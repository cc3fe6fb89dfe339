"""``models/`` is the deterministic core: no I/O libraries, no clock, no randomness."""

import ast
from pathlib import Path

import pytest

MODELS = Path(__file__).parents[2] / "models"
FORBIDDEN_MODULES = {
    "faust",
    "aiokafka",
    "clickhouse_connect",
    "chdb",
    "random",
    "socket",
    "requests",
    "aiohttp",
    "asyncio",
    "subprocess",
    "os",
    "time",
    "uuid",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "uuid4", "open", "read_text", "read_bytes", "getenv"}


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: str(p.relative_to(MODELS)))
def test_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        assert not {n.split(".")[0] for n in names} & FORBIDDEN_MODULES, f"{path}: imports {names}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path}:{node.lineno} calls {name}()"
