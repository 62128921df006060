"""A long-running process's start: pay only for what its first requests use.

What a start pays for that nothing needs yet (measured on a hub restart, 50,000-ticket day):
- pydantic builds each model's validator and serializer when its class is declared: FastAPI's
  own OpenAPI models alone take 0.12 s, our configuration and API models about as much,
  though a restart's first requests use a handful of them. Deferred (pydantic's
  `defer_build`), a model is built the first time it validates or serializes.
- Python's cyclic garbage collector walks every object the imports make, again and again
  while they are made (5-8 % of the start), though modules and classes live for good.
- pydantic looks for plugins in every installed package's metadata (17 ms).
"""

from __future__ import annotations

import gc
import os
import warnings

from pydantic import BaseModel
from pydantic.warnings import UnsupportedFieldAttributeWarning

_began = False


def begin() -> None:
    """From now on (this process): models are built when first used; no cyclic collection.

    Call before importing the application; `settled` once it is built.
    """
    global _began
    # Every model inherits the options of its bases' `model_config` when it is declared, so
    # the root's becomes every later model's default (a model may still say otherwise).
    BaseModel.model_config["defer_build"] = True
    # FastAPI silences this warning while it makes a route's validators, which then come
    # later, outside its silence: a body parameter's alias, harmless (see its _compat.v2).
    warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)
    # The hub uses no pydantic plugin; looking for them reads every installed package's
    # entry points (17 ms) when the first model is built.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()
    _began = True


def settled() -> None:
    """The application is built: the garbage its start left is collected, what it holds is
    kept apart from the collector's walks (`gc.freeze`: it lives as long as the process),
    and the collector runs from now on."""
    if _began:
        gc.collect()
        gc.freeze()
        gc.enable()
