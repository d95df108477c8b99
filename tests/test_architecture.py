"""The layout's rules, checked on the import graph (the layers themselves: lint-imports in make lint)."""

import grimp


def test_no_module_of_the_package_imports_itself_through_others():
    graph = grimp.build_graph("honyaku")
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} → {imported} → … → {module}")
    assert not circles, "import circles:\n" + "\n".join(circles)
