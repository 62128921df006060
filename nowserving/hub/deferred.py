"""Routers whose routes are built when asked, so that a restart builds the hot ones first.

FastAPI builds a route's validators when the route is declared: 0.2 s of CPU for the hub's
67 routes, of which the first requests after a restart (a kiosk's issue, the board, a
resident's ticket, the devices' sync) need a handful. A `Router` records what its
decorators declare; `build` makes the routes asked for, each exactly as `APIRouter` would
have made it, and keeps `routes` in the order they were declared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import Scope


@dataclass
class Declared:
    """A route as its decorator declared it; `route` once it is built."""

    operation_id: str
    path: re.Pattern[str]  # the full path (prefix included), to match before it is built
    build: Callable[[], APIRoute]
    route: APIRoute | None = None


class Router(APIRouter):
    """An `APIRouter` that builds its routes when `build` asks for them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.declared: list[Declared] = []

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        def build() -> APIRoute:
            super(Router, self).add_api_route(path, endpoint, **kwargs)
            route = self.routes.pop()  # put back in its declared place by `build`
            assert isinstance(route, APIRoute)
            return route

        operation = kwargs.get("operation_id") or endpoint.__name__
        pattern = compile_path(self.prefix + path)[0]
        self.declared.append(Declared(operation, pattern, build))

    def build(self, wanted: Callable[[Declared], bool] = lambda _: True) -> None:
        """Build the declared routes that are `wanted` and not built yet."""
        for declared in self.declared:
            if declared.route is None and wanted(declared):
                declared.route = declared.build()
        self.routes[:] = [d.route for d in self.declared if d.route is not None]


def answers_now(routes: Iterable[BaseRoute], unbuilt: Iterable[Declared], scope: Scope) -> bool:
    """Whether an application built in part routes `scope` as the whole one will: the first
    route that takes it is one of the routers' (FastAPI's own pages and the static files are
    not: `/openapi.json` would leave out the rest), and no route still to be built has its
    path (it might take it, or answer another method on it)."""
    if scope["type"] != "http":
        return False
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            if not isinstance(route, APIRoute):  # FastAPI's own pages, static files: later
                return False
            break
    else:
        return False
    return not any(d.path.match(scope["path"]) for d in unbuilt)
