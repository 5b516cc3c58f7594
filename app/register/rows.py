"""One numbered row of an import file, whatever the format: what the readers (app.register.files,
the Give Food and ORUK mappings in app.interop) hand to the import. On its own so the readers
and the mappings depend on it, not on each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, Any]  # column → value; `geometry` holds GeoJSON when the format has one
    # For formats mapped onto asset fields (ORUK, Give Food): asset field → the file's own field,
    # so an error names what the file calls it.
    fields: Mapping[str, str] = field(default_factory=dict)

    def source_field(self, name: str) -> str:
        return self.fields.get(name, name)
