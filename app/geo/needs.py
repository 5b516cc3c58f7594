"""Filtering assets by what a person needs (app.needs): the SQL clause for PostGIS and the same
test as a mask over the asset index's arrays (app.geo.asset_index), so the caller's answer is
the same from either.

The rule: of the languages asked, the asset speaks at least one (a caller names the languages
they can use; `languages=ur,pa` is "Urdu or Punjabi"); it has every accessibility feature asked;
the ages asked lie within its ages (an unknown bound is no bound); its cost and its referral
rule are among those asked (an unknown one is not)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.i18n import gettext
from app.needs import ACCESSIBILITY, COSTS, spoken_name


@dataclass(frozen=True)
class NeedsFilter:
    languages: tuple[str, ...] = ()  # any one of them spoken
    accessibility: tuple[str, ...] = ()  # every one of them
    age_from: float | None = None  # the ages to be served: from … to (inclusive)
    age_to: float | None = None
    costs: tuple[str, ...] = ()
    referrals: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self != NeedsFilter()

    def describe(self) -> str:
        """What is asked, in words: 'speaks Urdu or Punjabi; step-free access; for age 72'."""
        parts = []
        either = gettext(" or ")
        if self.languages:
            spoken = either.join(spoken_name(c) for c in self.languages)
            parts.append(gettext("speaks %(languages)s") % {"languages": spoken})
        parts += [gettext(ACCESSIBILITY.get(c, c)).lower() for c in self.accessibility]
        if self.age_from is not None and self.age_from == self.age_to:
            parts.append(gettext("for age %(age)s") % {"age": f"{self.age_from:g}"})
        elif self.age_from is not None or self.age_to is not None:
            ages = {"from": f"{self.age_from or 0:g}", "to": f"{self.age_to or self.age_from:g}"}
            parts.append(gettext("for ages %(from)s to %(to)s") % ages)
        if self.costs:
            parts.append(either.join(gettext(COSTS.get(c, c)).lower() for c in self.costs))
        if self.referrals == ("open_access",):
            parts.append(gettext("no referral needed"))
        elif self.referrals:
            parts.append(gettext("by referral"))
        return "; ".join(parts)

    def clause(self, alias: str = "a") -> tuple[str, dict[str, Any]]:
        """A WHERE fragment for asset `alias`, with its bind parameters."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.languages:
            clauses.append(f"{alias}.languages && CAST(:needs_languages AS text[])")
            params["needs_languages"] = list(self.languages)
        if self.accessibility:
            clauses.append(f"{alias}.accessibility @> CAST(:needs_accessibility AS text[])")
            params["needs_accessibility"] = list(self.accessibility)
        if self.age_from is not None:
            clauses.append(f"({alias}.min_age IS NULL OR {alias}.min_age <= :needs_age_from)")
            params["needs_age_from"] = self.age_from
        if self.age_to is not None:
            clauses.append(f"({alias}.max_age IS NULL OR {alias}.max_age >= :needs_age_to)")
            params["needs_age_to"] = self.age_to
        if self.costs:
            clauses.append(f"{alias}.cost = ANY(CAST(:needs_costs AS text[]))")
            params["needs_costs"] = list(self.costs)
        if self.referrals:
            clauses.append(f"{alias}.referral = ANY(CAST(:needs_referrals AS text[]))")
            params["needs_referrals"] = list(self.referrals)
        return " AND ".join(clauses) or "true", params


@dataclass(frozen=True)
class Coded:
    """A column as each row's number (`codes`) into its distinct `values`: what is worked out
    per value is worked out once (app.geo.asset_index reads its columns so)."""

    codes: np.ndarray
    values: list[Any]

    def __len__(self) -> int:
        return len(self.codes)


# The index's columns for these filters (app.geo.asset_index reads them with its lean rows).
NEEDS_COLUMNS = "a.languages, a.accessibility, a.min_age, a.max_age, a.cost, a.referral"


@dataclass
class NeedsArrays:
    """Each asset's needs fields, in parallel arrays: the set fields as bitmasks (one bit per
    value seen), the ages with -1 / 999 for no bound, cost and referral as numbers (-1: unknown)."""

    languages: np.ndarray
    accessibility: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    cost: np.ndarray
    referral: np.ndarray
    bits: dict[str, dict[str, int]]  # field → value → its bit (or number)
    exact: bool = True  # False: more than 64 languages or features; ask the database

    @classmethod
    def of(cls, columns: Mapping[str, Any]) -> NeedsArrays:
        """From the NEEDS_COLUMNS, each a sequence of row values or a `Coded` column (worked out
        once per distinct value); ages may be float arrays with NaN for no bound."""
        bits: dict[str, dict[str, int]] = {f: {} for f in ("languages", "accessibility")}
        bits.update(cost={}, referral={})
        exact = True

        def mask(field: str, values: Sequence[Any]) -> np.ndarray:
            nonlocal exact
            seen = bits[field]
            out = np.zeros(len(values), dtype=np.uint64)
            for i, listed in enumerate(values):
                word = 0
                for value in listed or ():
                    if value not in seen and len(seen) < 64:
                        seen[value] = len(seen)
                    if value in seen:
                        word |= 1 << seen[value]
                    else:
                        exact = False
                out[i] = word
            return out

        def number(field: str, values: Sequence[Any]) -> np.ndarray:
            seen = bits[field]
            return np.fromiter(
                (-1 if v is None else seen.setdefault(v, len(seen)) for v in values),
                np.int16,
                len(values),
            )

        def age(values: Any, missing: int) -> np.ndarray:
            if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                return np.where(np.isnan(values), missing, values).astype(np.int16)
            return np.fromiter((missing if v is None else v for v in values), np.int16, len(values))

        def each(field: str, values: Any, per: Callable[[str, Sequence[Any]], np.ndarray]) -> Any:
            if isinstance(values, Coded):
                return per(field, values.values)[values.codes]
            return per(field, values)

        return cls(
            languages=each("languages", columns["languages"], mask),
            accessibility=each("accessibility", columns["accessibility"], mask),
            min_age=age(columns["min_age"], -1),
            max_age=age(columns["max_age"], 999),
            cost=each("cost", columns["cost"], number),
            referral=each("referral", columns["referral"], number),
            bits=bits,
            exact=exact,
        )

    ARRAYS = ("languages", "accessibility", "min_age", "max_age", "cost", "referral")

    def arrays(self) -> list[np.ndarray]:
        """Its arrays, in ARRAYS' order."""
        return [getattr(self, f) for f in self.ARRAYS]

    def with_arrays(self, arrays: Sequence[np.ndarray]) -> NeedsArrays:
        """These arrays (in ARRAYS' order) numbered as this one is (the same `bits`, shared)."""
        languages, accessibility, min_age, max_age, cost, referral = arrays
        return NeedsArrays(
            languages, accessibility, min_age, max_age, cost, referral, self.bits, self.exact
        )

    def encode(self, row: Any) -> dict[str, Any] | None:
        """One asset's values (`row` has the NEEDS_COLUMNS), numbered in the shared `bits`, a
        value not seen before taking the next bit; None when a set field has run out of bits
        (the index can no longer answer exactly: rebuild it)."""
        values: dict[str, Any] = {}
        for field in ("languages", "accessibility"):
            seen, word = self.bits[field], 0
            for value in getattr(row, field) or ():
                if value not in seen:
                    if len(seen) >= 64:
                        return None
                    seen[value] = len(seen)
                word |= 1 << seen[value]
            values[field] = np.uint64(word)
        for field in ("cost", "referral"):
            value = getattr(row, field)
            seen = self.bits[field]
            values[field] = -1 if value is None else seen.setdefault(value, len(seen))
        values["min_age"] = -1 if row.min_age is None else row.min_age
        values["max_age"] = 999 if row.max_age is None else row.max_age
        return values

    def take(self, which: np.ndarray) -> NeedsArrays:
        return NeedsArrays(
            languages=self.languages[which],
            accessibility=self.accessibility[which],
            min_age=self.min_age[which],
            max_age=self.max_age[which],
            cost=self.cost[which],
            referral=self.referral[which],
            bits=self.bits,
            exact=self.exact,
        )

    def match(self, needs: NeedsFilter) -> np.ndarray:
        """Which assets pass `needs`: NeedsFilter.clause as arrays."""
        ok = np.ones(len(self.cost), dtype=bool)
        if needs.languages:
            wanted = self._word("languages", needs.languages, every=False) or 0
            ok &= np.bitwise_and(self.languages, np.uint64(wanted)) != 0
        if needs.accessibility:
            every = self._word("accessibility", needs.accessibility, every=True)
            if every is None:  # a feature no asset has
                return np.zeros_like(ok)
            word = np.uint64(every)
            ok &= np.bitwise_and(self.accessibility, word) == word
        if needs.age_from is not None:
            ok &= self.min_age <= needs.age_from
        if needs.age_to is not None:
            ok &= self.max_age >= needs.age_to
        if needs.costs:
            ok &= np.isin(self.cost, self._numbers("cost", needs.costs))
        if needs.referrals:
            ok &= np.isin(self.referral, self._numbers("referral", needs.referrals))
        return ok

    def _word(self, field: str, values: Sequence[str], every: bool) -> int | None:
        seen, word = self.bits[field], 0
        for value in values:
            if value not in seen:
                if every:
                    return None
                continue
            word |= 1 << seen[value]
        return word

    def _numbers(self, field: str, values: Sequence[str]) -> list[int]:
        return [self.bits[field][v] for v in values if v in self.bits[field]]
