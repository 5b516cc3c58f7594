"""The declarative layer description (layers.toml) and the hubs (hubs.csv), parsed and checked."""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
LAYER_NAMES = ("district", "ward", "hub", "neighbourhood", "lsoa")


class SpecError(ValueError):
    """The bundle or the project's definitions are not what the loader needs; says what to fix."""


class LayerSpec(BaseModel):
    name: Literal["district", "ward", "hub", "neighbourhood", "lsoa"]
    vintage: str
    title: str
    source: str
    method: str
    file: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    population: Literal["imd2019"] | None = None
    derive: Literal["union_of_wards", "pcn_footprints"] | None = None
    definition: str | None = None
    from_vintage: str | None = None
    pcns: str | None = None
    practices: str | None = None
    membership: str | None = (
        None  # a later GP practice → PCN membership file (instead of practices)
    )
    current: bool | None = None  # the default vintage of its layer (None: the first loaded)


class DeprivationSpec(BaseModel):
    imd2019: str
    imd2025: str
    lsoa2021: str


class PostcodeSpec(BaseModel):
    live: str
    directory: str
    history: str


class BundleSpec(BaseModel):
    layer: list[LayerSpec]
    deprivation: DeprivationSpec
    postcodes: PostcodeSpec

    def layer_named(self, name: str) -> LayerSpec:
        return next(spec for spec in self.layer if spec.name == name)

    def layers_named(self, name: str) -> list[LayerSpec]:
        """Every vintage of a layer the bundle defines, in file order."""
        return [spec for spec in self.layer if spec.name == name]

    def bundle_files(self) -> list[str]:
        files = [spec.file for spec in self.layer if spec.file]
        files += [spec.pcns for spec in self.layer if spec.pcns]
        files += [spec.practices for spec in self.layer if spec.practices]
        files += [spec.membership for spec in self.layer if spec.membership]
        files += list(self.deprivation.model_dump().values())
        files += list(self.postcodes.model_dump().values())
        return [f for f in files if f]

    def project_files(self) -> list[Path]:
        own = [HERE / "layers.toml"]
        own += [HERE / spec.definition for spec in self.layer if spec.definition]
        return own


def load_spec(path: Path = HERE / "layers.toml") -> BundleSpec:
    with path.open("rb") as handle:
        return BundleSpec.model_validate(tomllib.load(handle))


def check_bundle(spec: BundleSpec, data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise SpecError(
            f"The data bundle folder {data_dir} does not exist; set ASSETMAP_DATA_DIR to the "
            "kirklees-data folder."
        )
    missing = [name for name in spec.bundle_files() if not (data_dir / name).is_file()]
    if missing:
        raise SpecError(f"{data_dir} lacks {', '.join(missing)}; is it the Kirklees bundle?")


def fingerprint(spec: BundleSpec, data_dir: Path, loader_version: str) -> str:
    """Changes when any input file, the project's definitions or the loader itself changes."""
    digest = hashlib.sha256(loader_version.encode())
    for path in [*(data_dir / name for name in spec.bundle_files()), *spec.project_files()]:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Hub:
    code: str
    name: str
    ward_codes: tuple[str, ...]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def read_hubs(path: Path, ward_names: dict[str, str]) -> list[Hub]:
    """Hubs from hubs.csv, checked against the wards: each ward in exactly one hub."""
    members: dict[str, list[str]] = {}
    hub_of: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        expected = {"hub_name", "ward_code", "ward_name"}
        if set(reader.fieldnames or ()) != expected:
            raise SpecError(f"{path.name}: the header must be hub_name,ward_code,ward_name")
        for row_number, row in enumerate(reader, start=2):
            hub, ward = row["hub_name"].strip(), row["ward_code"].strip()
            if ward not in ward_names:
                raise SpecError(
                    f"{path.name} row {row_number}: ward_code {ward} is not a ward of this vintage"
                )
            members.setdefault(hub, []).append(ward)
            hub_of.setdefault(ward, []).append(hub)
    twice = {ward: hubs for ward, hubs in hub_of.items() if len(hubs) > 1}
    if twice:
        listed = "; ".join(f"{ward_names[w]} ({w}) in {' and '.join(h)}" for w, h in twice.items())
        raise SpecError(f"{path.name}: a ward must be in one hub only: {listed}")
    nowhere = sorted(set(ward_names) - set(hub_of))
    if nowhere:
        listed = ", ".join(f"{ward_names[w]} ({w})" for w in nowhere)
        raise SpecError(f"{path.name}: every ward must be in a hub; in none: {listed}")
    return [Hub(slug(name), name, tuple(wards)) for name, wards in members.items()]
