"""RFC 6570 URI templates, as far as resource templates need: match a URI, name its parts."""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["UriTemplate"]

_EXPR = re.compile(r"\{([+#./;?&]?)([A-Za-z0-9_,*]+)\}")


class UriTemplate:
    """A compiled template such as ``weather://{city}/today`` or ``file:///{+path}``."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.names: list[str] = []
        pattern = ["^"]
        pos = 0
        for match in _EXPR.finditer(template):
            pattern.append(re.escape(template[pos : match.start()]))
            op, names = match.group(1), match.group(2)
            for i, raw in enumerate(names.split(",")):
                name = raw.rstrip("*")
                self.names.append(name)
                sep = "," if i else ""
                if op in ("+", "#") or raw.endswith("*"):
                    pattern.append(
                        f"{re.escape(sep)}{re.escape(op) if op == '#' and not i else ''}(?P<{name}>.+?)"
                    )
                elif op == "?":
                    prefix = "\\?" if not i else "&"
                    pattern.append(f"(?:{prefix}{name}=(?P<{name}>[^&#]*))?")
                elif op in ("/", "."):
                    pattern.append(f"{re.escape(op)}(?P<{name}>[^/?#.]*)")
                else:
                    pattern.append(f"{re.escape(sep)}(?P<{name}>[^/?#,]+)")
            pos = match.end()
        pattern.append(re.escape(template[pos:]) + "$")
        self._regex = re.compile("".join(pattern))

    @property
    def is_template(self) -> bool:
        """Whether the string had any ``{...}`` expression."""
        return bool(self.names)

    def match(self, uri: str) -> dict[str, str] | None:
        """The variables of ``uri`` if it fits this template, else ``None``."""
        found = self._regex.match(uri)
        if found is None:
            return None
        return {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
