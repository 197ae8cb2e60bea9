"""``Registry.scoped``: whether any tool asks for OAuth scopes, kept right through every change.

The guard skips the per-tool scope check of a token's call when it is false, so a stale
``False`` would let a token without a tool's scopes call it.
"""

from __future__ import annotations

from nbmcp.monitor import Monitor
from nbmcp.tools import Registry, Tool


def _tool(name: str, scopes: list[str] | None = None) -> Tool:
    def fn(x: int) -> int:
        """Echo."""
        return x

    return Tool.from_function(fn, name=name, scopes=scopes)


def test_scoped_follows_adds_replacements_and_removals() -> None:
    registry = Registry(Monitor())
    assert registry.scoped is False
    registry.add_tool(_tool("plain"))
    assert registry.scoped is False
    registry.add_tool(_tool("write", ["write"]))
    registry.add_tool(_tool("admin", ["admin"]))
    assert registry.scoped is True
    registry.remove_tool("write")
    assert registry.scoped is True  # "admin" still asks for one
    registry.add_tool(_tool("admin"), replace=True)  # the same name, now without scopes
    assert registry.scoped is False
    registry.add_tool(_tool("plain", ["read"]), replace=True)
    assert registry.scoped is True
    registry.remove_tool("plain")
    assert registry.scoped is False
    assert registry.remove_tool("plain") is False
    assert registry.scoped is False


def test_registering_many_tools_stays_linear() -> None:
    """Each registration looks at the new tool (and the one it replaces), not at every tool."""
    registry = Registry(Monitor())
    looked: list[str] = []

    class Counting(Tool):
        @property
        def scopes(self) -> frozenset[str]:
            looked.append(self.name)
            return frozenset()

    for i in range(200):
        tool = _tool(f"t{i}")
        tool.__class__ = Counting
        registry.add_tool(tool)
    assert len(looked) <= 2 * 200
