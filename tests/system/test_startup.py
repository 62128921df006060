"""A server's start builds pydantic models when first used, and collects garbage once built."""

from __future__ import annotations

import subprocess
import sys

# In a process of its own: `begin` changes every model declared after it, for good.
CHECK = """
import gc, os
from nowserving.system import startup
from pydantic import BaseModel, ValidationError

class Before(BaseModel):
    n: int

startup.begin()
assert not gc.isenabled() and os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"

class After(BaseModel):
    n: int

assert Before.__pydantic_complete__ and not After.__pydantic_complete__
assert After(n="3").n == 3 and After.__pydantic_complete__  # built at first use
try:
    After(n="three")
except ValidationError as error:
    assert error.errors()[0]["loc"] == ("n",)
else:
    raise AssertionError("a deferred model validates as any other")
frozen = gc.get_freeze_count()
startup.settled()
assert gc.isenabled() and gc.get_freeze_count() > frozen
print("ok")
"""


def test_models_are_built_when_first_used_and_the_collector_runs_once_settled() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_settled_without_begin_changes_nothing() -> None:
    code = (
        "import gc; from nowserving.system import startup; startup.settled(); "
        "print(gc.isenabled(), gc.get_freeze_count())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "0"], result.stderr
