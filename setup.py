"""resources/ ships inside the wheel as nowserving/resources (paths.resources_dir finds both).

pyproject.toml cannot map a found tree to another name, so this adds resources/'s folders,
found the same way, to the packages pyproject's `packages.find` discovers.
"""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCES = ["nowserving.resources"] + [
    f"nowserving.resources.{name}" for name in find_namespace_packages(where="resources")
]

setup(
    packages=find_packages(include=["nowserving*", "nowserving_qt*", "kiosk*", "display*", "desk*"])
    + RESOURCES,
    package_dir={"nowserving.resources": "resources"},
)
