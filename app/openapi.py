"""The OpenAPI document, made true: every answer an operation can give is declared with its schema.

FastAPI documents its own validation-error shape for 422; ours is {detail, code}. The limits
answer 413 and 429 on any operation, the database 503, a bad key 401. Added here once, from what
each operation is (has a body, takes a key, touches the database), rather than on every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
NO_DATABASE = {"/health/live"}
# Query parameters that name something which may not exist (answered with 404).
FINDS_BY_NAME = {"vintage", "postcode", "area", "layer"}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        answer["headers"] = headers
    return answer


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def _complete(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = _error(responses["422"].get("description") or "Invalid input")
    responses.setdefault("429", _error("Too many requests from this client", RETRY_AFTER))
    responses.setdefault("500", _error("Internal error (logged, never detailed)"))
    if path not in NO_DATABASE:
        responses.setdefault(
            "503",
            _error(
                "The database is unavailable, or the request ran past the statement timeout",
                RETRY_AFTER,
            ),
        )
    if method in ("post", "put", "patch") or "requestBody" in operation:
        responses.setdefault("413", _error("The request body is too large"))
        responses.setdefault("400", _error("The request body could not be parsed"))
    if operation.get("security"):
        responses.setdefault("401", _error("The API key is not valid or has been revoked"))
    names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
    if "{" in path or names & FINDS_BY_NAME:
        responses.setdefault("404", _error("Not found: unknown id, area, vintage or postcode"))


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            servers=app.servers,
        )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if isinstance(operation, dict) and "responses" in operation:
                    _complete(path, method, operation)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components.setdefault(
            "ErrorBody",
            {
                "title": "ErrorBody",
                "type": "object",
                "required": ["detail", "code"],
                "properties": {
                    "detail": {"type": "string", "title": "Detail"},
                    "code": {"type": "string", "title": "Code"},
                },
            },
        )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
