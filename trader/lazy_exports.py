"""Package names imported on first use (PEP 562): for packages whose heavy modules (torch,
ccxt, aiohttp, redis) most runs never touch, while `from package import Name` keeps working.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, module_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a package's `__getattr__` and `__dir__` for the names in `module_of`.

    `module_of` maps each public name to the module that defines it (absolute, or relative to
    the package: ".registry"). A name is imported when first asked for, then kept in the
    package, so later lookups are plain attribute reads.
    """

    def get_export(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def list_exports() -> list[str]:
        return sorted({*vars(sys.modules[package]), *module_of})

    return get_export, list_exports
