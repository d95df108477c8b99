"""The layout's rules, checked on the import graph (the layers themselves: lint-imports in make lint)."""

import ast
from collections import Counter
from pathlib import Path

import grimp

import honyaku


def test_no_module_of_the_package_imports_itself_through_others():
    graph = grimp.build_graph("honyaku")
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} → {imported} → … → {module}")
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_each_subpackage_says_what_it_owns_and_no_two_modules_share_a_name():
    root = Path(honyaku.__file__).parent
    packages = [path.parent for path in root.rglob("__init__.py")]
    assert all(ast.get_docstring(ast.parse((package / "__init__.py").read_text())) for package in packages)
    names = Counter(path.stem for path in root.rglob("*.py") if path.stem not in ("__init__", "__main__"))
    assert [name for name, count in names.items() if count > 1] == []


SIZES = {"module": 500, "class": 200, "function": 60}  # lines


def oversized() -> set[str]:
    """Each module over SIZES["module"] lines, and each class or function over its size, by path (and name)."""
    root = Path(honyaku.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        where = str(path.relative_to(root.parent))
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > SIZES["module"]:
            found.add(where)
        for node in ast.walk(ast.parse(text)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > SIZES[kind]:
                    found.add(f"{where}:{node.name}")
    return found


def test_no_module_class_or_function_grows_past_its_size():
    assert oversized() == set(), "split these where a concern ends (ARCHITECTURE.md, Sizes)"
