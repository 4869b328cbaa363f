"""A pattern that guards a value must match all of it: ``re.match`` (and ``pattern.match``)
stops at the pattern's end, and ``$`` also matches before a final newline, so
``re.match("^[0-9]+$", "6\\n")`` accepts a value that then breaks the originate string. The
project's code calls ``fullmatch`` (or ``search`` to find text inside text); this test
reads every module of the packages and fails on any ``match`` call on the ``re`` module or
on a compiled pattern."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dialer", "campaigns", "fs_conf", "workers")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _is_compile(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "compile"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
    )


def _pattern_names(tree: ast.AST) -> set[str]:
    """Names and attributes a compiled pattern is assigned to anywhere in the module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign) and _is_compile(node.value):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None and _is_compile(node.value):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, ast.Attribute):
                names.add(target.attr)
    return names


def match_calls(source: str, imported: frozenset[str] = frozenset()) -> list[int]:
    """Line numbers of ``re.match(...)``, ``re.compile(...).match(...)`` and
    ``PATTERN.match(...)`` where ``PATTERN`` is assigned a ``re.compile`` in the module or is
    one of the ``imported`` pattern names."""
    tree = ast.parse(source)
    patterns = _pattern_names(tree) | imported
    lines: list[int] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "match":
            continue
        owner = node.func.value
        if (
            (isinstance(owner, ast.Name) and owner.id in {"re", *patterns})
            or (isinstance(owner, ast.Attribute) and owner.attr in patterns)
            or _is_compile(owner)
        ):
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_each_form() -> None:
    source = (
        "import re\n"
        "A = re.compile('x')\n"
        "class C:\n"
        "    def __init__(self):\n"
        "        self.b = re.compile('y')\n"
        "    def f(self, v):\n"
        "        return A.match(v), self.b.match(v), re.match('z', v), re.compile('w').match(v)\n"
        "def g(trie, v):\n"
        "    return A.fullmatch(v), trie.match(v)\n"
    )
    assert match_calls(source) == [7, 7, 7, 7]
    assert match_calls("from m import P\nP.match('x')\n", frozenset({"P"})) == [2]


# A pattern compiled in one module may be used in another (``UUID_RE``).
_PROJECT_PATTERNS = frozenset(
    name for p in _modules() for name in _pattern_names(ast.parse(p.read_text(encoding="utf-8")))
)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pattern_guards_a_value_with_match(path: Path) -> None:
    lines = match_calls(path.read_text(encoding="utf-8"), _PROJECT_PATTERNS)
    assert not lines, f"{path.relative_to(ROOT)}: re .match at line(s) {lines}; use fullmatch"
