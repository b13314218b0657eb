"""The code's shape: short functions and files, training and service apart, FastAPI extended by public APIs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "training", "mnist_form", "bench", "client")
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def function_lengths(path: Path) -> dict[str, int]:
    """Every function and method in the file (nested ones too), as "name:line", with its length in lines,
    decorators, docstring and comments included."""
    lengths = {}
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            lengths[f"{node.name}:{node.lineno}"] = node.end_lineno - first + 1
    return lengths


def imported_modules(path: Path) -> set[str]:
    """The top-level package of every import in the file, lazy imports inside functions included."""
    modules = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_sources(package: str) -> None:
    assert sources(package), f"{package}/ has no Python files: update PACKAGES"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_longer_than_the_limit(package: str) -> None:
    too_long = [
        f"{path.relative_to(ROOT)} {name} ({lines} lines)"
        for path in sources(package)
        for name, lines in function_lengths(path).items()
        if lines > MAX_FUNCTION_LINES
    ]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_file_is_longer_than_the_limit(package: str) -> None:
    too_long = [
        f"{path.relative_to(ROOT)} ({lines} lines)"
        for path in sources(package)
        if (lines := len(path.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert not too_long, f"files over {MAX_FILE_LINES} lines: {too_long}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("training", {"service"}), ("service", {"training"}), ("mnist_form", {"service", "training"})],
)
def test_packages_do_not_import_each_other(package: str, forbidden: set[str]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported_modules(path) & forbidden)}"
        for path in sources(package)
        if imported_modules(path) & forbidden
    ]
    assert not offenders, offenders


def base_names(node: ast.ClassDef) -> set[str]:
    """The last part of each base class's name: ``routing.APIRoute`` and ``APIRoute`` alike give APIRoute."""
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_no_class_subclasses_apiroute(package: str) -> None:
    subclasses = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sources(package)
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.ClassDef) and "APIRoute" in base_names(node)
    ]
    assert not subclasses, f"APIRoute subclasses (use public FastAPI/Starlette APIs instead): {subclasses}"


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The helpers find a long function, a forbidden import and an APIRoute subclass in a file that has them."""
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample.write_text(
        "import fastapi.routing\n"
        "def f() -> None:\n"
        "    from service.model import ModelRunner\n"
        f"{body}\n"
        "class Fast(fastapi.routing.APIRoute):\n"
        "    pass\n"
    )
    tree = parsed(sample)
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    assert base_names(classes[0]) == {"APIRoute"}
    assert imported_modules(sample) == {"fastapi", "service"}
    assert function_lengths(sample)["f:2"] == MAX_FUNCTION_LINES + 2
