"""The apps depend downward only (ARCHITECTURE.md "Wave 2", docs/DECISIONS.md
"Layers"): contacts and cabinet at the bottom, then billing, the messaging
core, the channel apps, then the apps built on them.  A lower app never
imports a higher one, not even inside a function; an import of another app
inside a function says why in a comment (on its line or the line above).

Read from the source with ``ast``, like ``../shared/tools/layers.py``."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "cabinet": 0,
    "contacts": 0,
    "billing": 1,
    "messaging": 2,
    "viber": 3,
    "voice": 3,
    "social": 3,
    "scenarios": 4,
    "events": 4,
    "promo": 4,
    "partners": 4,
    "integrations": 4,
    "reports": 4,
    "staff": 5,
    "chat": 4,
}
SKIP = {"migrations", "templates", "static", "__pycache__"}
# The project package's glue wires every app together.
GLUE = {
    "cabinet/urls.py",
    "cabinet/settings.py",
    "cabinet/celery.py",
    "cabinet/wsgi.py",
    "cabinet/asgi.py",
}


def _walk(node, func=None):
    """(import node, enclosing function name or None) for every import."""
    for child in ast.iter_child_nodes(node):
        inner = func
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = child.name
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, func
        yield from _walk(child, inner)


def _imports():
    """(path, line, importing app, imported app, function or None, has_comment)"""
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if SKIP & set(path.relative_to(ROOT).parts) or rel in GLUE:
                continue
            source = path.read_text(encoding="utf-8")
            lines = [""] + source.splitlines()
            for node, func in _walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif node.level == 0:
                    names = [node.module or ""]
                else:
                    continue  # relative: the same app
                for name in names:
                    target = name.split(".")[0]
                    if target not in LAYERS or target == app:
                        continue
                    commented = "#" in lines[node.lineno] or lines[
                        node.lineno - 1
                    ].strip().startswith("#")
                    yield rel, node.lineno, app, target, func, commented


def test_no_app_imports_an_app_above_it():
    upward = [
        f"{rel}:{line}: {app} imports {target}"
        for rel, line, app, target, _func, _c in _imports()
        if LAYERS[target] > LAYERS[app]
    ]
    assert upward == [], (
        "a lower app must talk upward through a signal it owns, a registry "
        "filled in AppConfig.ready() or a dotted-path setting:\n" + "\n".join(upward)
    )


def test_an_import_of_another_app_inside_a_function_says_why():
    hidden = [
        f"{rel}:{line}: {target} inside {func}()"
        for rel, line, _app, target, func, commented in _imports()
        if func and func != "ready" and not commented
    ]
    assert hidden == [], (
        "import it at the top of the module, or fix the cycle that prevents it, "
        "or say in a comment why it must stay inside the function:\n"
        + "\n".join(hidden)
    )
