"""Query strings validated as one pydantic model in one call, for the hottest routes.

FastAPI resolves each declared query parameter with per-request reflection; on `/api/lookup` that
was a fifth of the request's time (docs/performance.md). These routes take the `Request`, validate
its query string against a model here, and declare the same parameters in the OpenAPI document
from that model, so clients and the fuzzer see exactly what FastAPI would have declared.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import unquote_plus

import fastapi.routing
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

Model = TypeVar("Model", bound=BaseModel)
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


@functools.cache
def _repeated(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's list fields: every value given is kept (`?category=a&category=b`), as
    FastAPI keeps them; for any other field the last one given counts, as in FastAPI."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if any(
            typing.get_origin(kind) is list
            for kind in (field.annotation, *typing.get_args(field.annotation))
        )
    )


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The pairs exactly as Starlette's `request.query_params` reads them (urllib.parse's
    `parse_qsl`, blank values kept), without building its multi-dict; and without parse_qsl's
    general set-up, in a quarter of its time on a query of plain numbers (`?lat&lon&limit`)."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            if "+" in part or "%" in part:
                name, value = unquote_plus(name), unquote_plus(value)
            pairs.append((name, value))
    return pairs


def parse_query(model: type[Model], request: Request) -> Model:
    """The query string as `model`; a bad value is the same 4xx as any other bad parameter."""
    pairs = query_pairs(request.scope["query_string"].decode("latin-1"))
    values: dict[str, Any] = dict(pairs)
    for name in _repeated(model):
        if name in values:
            values[name] = [value for key, value in pairs if key == name]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring the model's fields as optional or required query parameters."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": field,
                **({"description": field["description"]} if "description" in field else {}),
            }
            for name, field in schema["properties"].items()
        ]
    }


class HotRoute(APIRoute):
    """A route whose endpoint takes the `Request` alone and returns its `Response`: called
    straight, without FastAPI's handler around it (its dependency solving, with nothing to
    solve, and its response handling, with nothing to serialise, cost a tenth of a hot call).
    OpenAPI still sees the route as FastAPI declares it."""

    def get_route_handler(self) -> Endpoint:
        handler = super().get_route_handler()
        # what FastAPI would solve: the route's, or where a router including it adds
        # dependencies (FastAPI from 0.130 builds each inclusion's handler in its context)
        context = getattr(fastapi.routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        dependant = self.dependant
        if effective is not None and getattr(effective, "original_route", None) is self:
            dependant = effective.dependant
        asks = (dependant.path_params, dependant.query_params, dependant.header_params,
                dependant.cookie_params, dependant.body_params, dependant.dependencies)  # fmt: skip
        if any(asks) or dependant.request_param_name is None:
            return handler  # it asks for more than the request: FastAPI's handler serves it
        endpoint: Endpoint = self.endpoint
        return endpoint


def hot_get(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """`@router.get(path, ...)` for a hot route (`HotRoute`)."""

    def add(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=HotRoute, **options
        )
        return endpoint

    return add
