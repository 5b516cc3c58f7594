"""Who is asking: anonymous, or the holder of an API key with a role (and maybe an organisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["anonymous", "admin", "editor", "hub_worker", "planner"]
ROLES: tuple[Role, ...] = ("admin", "editor", "hub_worker", "planner")

# Which visibility tiers each role sees (editors also see their own organisation's assets).
TIERS: dict[Role, tuple[str, ...]] = {
    "anonymous": ("public",),
    "editor": ("public",),
    "hub_worker": ("public", "professional"),
    "planner": ("public", "professional"),
    "admin": ("public", "professional", "hidden"),
}


@dataclass(frozen=True)
class Principal:
    role: Role = "anonymous"
    name: str = "anonymous"
    key_id: int | None = None
    organisation_id: int | None = None

    @property
    def tiers(self) -> tuple[str, ...]:
        return TIERS[self.role]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_professional(self) -> bool:
        return self.role in ("admin", "hub_worker", "planner")

    def owns(self, organisation_id: int | None) -> bool:
        return self.organisation_id is not None and self.organisation_id == organisation_id

    def sees_private_details_of(self, organisation_id: int | None) -> bool:
        """Private contacts and addresses: professionals, and editors for their own assets."""
        return self.is_professional or self.owns(organisation_id)

    def private_view(self) -> bool | None:
        """`sees_private_details_of` where it is the same for every asset (a professional:
        always; no organisation: never); None where it depends on the owner."""
        if self.is_professional:
            return True
        return False if self.organisation_id is None else None


ANONYMOUS = Principal()
