"""Every command, option and argument of ``dialer`` says what it is for in ``--help``."""

from __future__ import annotations

from collections.abc import Iterator

import typer.main
from typer.core import TyperCommand, TyperGroup

from workers.cli import app

Node = TyperCommand | TyperGroup


def commands(node: Node, path: str = "dialer") -> Iterator[tuple[str, Node]]:
    """Every command under ``node`` with its full name, ``node`` itself first."""
    yield path, node
    if isinstance(node, TyperGroup):
        for name, sub in sorted(node.commands.items()):
            assert isinstance(sub, TyperCommand | TyperGroup)
            yield from commands(sub, f"{path} {name}")


def undocumented(path: str, node: Node) -> list[str]:
    """``path`` itself and each of its parameters that has no help text."""
    missing = [] if node.help or node.short_help else [f"{path} (the command)"]
    for param in node.params:
        if param.name == "help" or getattr(param, "hidden", False):
            continue
        if not getattr(param, "help", None):
            missing.append(f"{path} {param.opts[0] if param.opts else param.name}")
    return missing


def tree() -> Node:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return root


def test_every_option_and_argument_has_help_text() -> None:
    found = [name for path, node in commands(tree()) for name in undocumented(path, node)]
    assert found == []


def test_the_walk_sees_every_command() -> None:
    names = {path for path, _ in commands(tree())}
    assert {"dialer calls list", "dialer calls show", "dialer campaigns create"} <= names
    assert "dialer demo" in names and "dialer route" in names
