"""ariadne-codegen plugin: derive the sync operations client from the async one.

ariadne-codegen writes one client per configuration. Two configurations would
generate every result and input model twice, so ``Client`` and ``AsyncClient``
results would be different classes. Instead the async client is generated as
usual and this plugin appends its sync twin to the same module: same methods,
same models, ``async``/``await`` removed and ``BaseOperations`` as the base.
``self`` is made positional-only so that ``Operations.method`` can be typed as
``Callable[Concatenate[Operations, P], R]`` by code that refers to operations.
"""

import ast
import copy
from typing import Any

from ariadne_codegen.plugins.base import Plugin

SYNC_CLIENT_NAME = "Operations"
SYNC_BASE_NAME = "BaseOperations"


class _StripAsync(ast.NodeTransformer):
    def visit_Await(self, node: ast.Await) -> Any:
        return self.visit(node.value)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> Any:
        self.generic_visit(node)
        if node.args.args and node.args.args[0].arg == "self":
            node.args.posonlyargs = [node.args.args.pop(0)]
        sync = ast.FunctionDef(
            name=node.name,
            args=node.args,
            body=node.body,
            decorator_list=node.decorator_list,
            returns=node.returns,
            type_comment=node.type_comment,
        )
        return ast.copy_location(sync, node)


class SyncOperationsPlugin(Plugin):
    def generate_client_module(self, module: ast.Module) -> ast.Module:
        async_class = next(node for node in module.body if isinstance(node, ast.ClassDef))
        base_name = async_class.bases[0]
        assert isinstance(base_name, ast.Name)

        sync_class = _StripAsync().visit(copy.deepcopy(async_class))
        sync_class.name = SYNC_CLIENT_NAME
        sync_class.bases = [ast.Name(id=SYNC_BASE_NAME, ctx=ast.Load())]
        module.body.append(sync_class)

        for node in module.body:
            if isinstance(node, ast.ImportFrom) and any(
                alias.name == base_name.id for alias in node.names
            ):
                node.names.append(ast.alias(name=SYNC_BASE_NAME))
        return ast.fix_missing_locations(module)

    def generate_init_module(self, module: ast.Module) -> ast.Module:
        """Export the sync names wherever the async ones are exported.

        Covers the eager ``from .client import ...`` form, its ``TYPE_CHECKING``
        twin under ``lazy_imports``, the lazy name-to-module table and ``__all__``.
        """
        exported = {SYNC_CLIENT_NAME: ".client", SYNC_BASE_NAME: ".base_operations"}
        for node in ast.walk(module):
            if isinstance(node, ast.ImportFrom):
                for name, source in exported.items():
                    if node.level == 1 and f".{node.module}" == source:
                        node.names.append(ast.alias(name=name))
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                target = node.targets[0].id
                if target == "__all__" and isinstance(node.value, ast.List):
                    names = {
                        str(elt.value) for elt in node.value.elts if isinstance(elt, ast.Constant)
                    }
                    node.value.elts = [
                        ast.Constant(value=name) for name in sorted(names | set(exported))
                    ]
                elif isinstance(node.value, ast.Dict):
                    for name, source in exported.items():
                        node.value.keys.append(ast.Constant(value=name))
                        node.value.values.append(ast.Constant(value=source))
        return ast.fix_missing_locations(module)
