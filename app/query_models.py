"""Query strings validated as one pydantic model in one call, for the hottest routes.

FastAPI resolves each declared query parameter with per-request reflection; on `/api/lookup` that
was a fifth of the request's time (docs/performance.md). These routes take the `Request`, validate
its query string against a model here, and declare the same parameters in the OpenAPI document
from that model, so clients and the fuzzer see exactly what FastAPI would have declared.
"""

from __future__ import annotations

import functools
import typing
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


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


def parse_query(model: type[Model], request: Request) -> Model:
    """The query string as `model`; a bad value is the same 4xx as any other bad parameter."""
    params = request.query_params
    values: dict[str, Any] = dict(params)
    for name in _repeated(model):
        if name in values:
            values[name] = params.getlist(name)
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
