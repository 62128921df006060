"""Import every module of the core and fail if any of them pulled in Qt."""

import importlib
import pkgutil
import sys

import nowserving

for module in pkgutil.walk_packages(nowserving.__path__, "nowserving."):
    if module.name != "nowserving.__main__":
        importlib.import_module(module.name)
qt = sorted(name for name in sys.modules if name.startswith(("PySide6", "shiboken6")))
if qt:
    sys.exit(f"the core (nowserving/) imported Qt: {', '.join(qt)}")
print(f"core is Qt-free: {len(sys.modules)} modules loaded, none of them Qt")
