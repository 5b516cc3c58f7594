"""The image built from a clean clone serves every file its pages reference: the Dockerfile's
first stage runs scripts/vendor.sh (app/static/vendor is git-ignored, so nothing else makes
it), and .dockerignore keeps the build context small. Tested here without a registry by
running the same vendoring step into a temporary folder; `docker compose config` where docker
has compose."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("/", "/?postcode=HD1+1AA", "/hub?postcode=WF14+8AN&needs=library", "/planner",
         "/submit", "/moderate", "/accessibility", "/docs")  # fmt: skip
STATIC = re.compile(r"""(?:src|href)=["'](/static/[^"'?#]+)""")
CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:|#)([^'\")]+)")  # not inline data, not IE's #VML
NEVER_IN_CONTEXT = (".git", ".venv", "bench", "frontend/node_modules", "app/static/vendor",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache")  # fmt: skip


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` (relative to the root) out of the build context."""
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(prefix.split("/")[-1], pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


def test_the_dockerfile_vendors_in_its_own_stage_and_copies_the_result() -> None:
    dockerfile = _dockerfile()
    vendor_stage = dockerfile.split("AS vendor", 1)[1].split("\nFROM ", 1)[0]
    assert "RUN bash scripts/vendor.sh" in vendor_stage
    assert "COPY --from=vendor /build/app/static/vendor ./app/static/vendor" in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
                assert not _ignored(source), f"{source} is copied but .dockerignore drops it"


def test_the_build_context_leaves_out_what_the_image_builds_itself() -> None:
    for path in NEVER_IN_CONTEXT:
        assert _ignored(path), path
    for kept in ("app/static/css/site.css", "app/static/js/assetmap.js", "migrations",
                 "boundaries", "pyproject.toml", "README.md", "scripts/vendor.sh"):  # fmt: skip
        assert not _ignored(kept), kept
    assert _ignored("app/geo/__pycache__/x.pyc")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is installed by `make install`")
def test_the_vendoring_stage_makes_every_static_file_the_pages_reference(
    client: TestClient, tmp_path: Path
) -> None:
    vendor = tmp_path / "vendor"
    subprocess.run(
        ["bash", "scripts/vendor.sh"],
        cwd=ROOT,
        env={**os.environ, "VENDOR_DIR": str(vendor)},
        check=True,
        capture_output=True,
        timeout=300,
    )
    referenced: set[str] = set()
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        referenced |= set(STATIC.findall(page.text))
    assert "/static/vendor/leaflet/leaflet.js" in referenced
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in referenced
    missing = []
    for url in sorted(referenced):
        relative = url.removeprefix("/static/")
        if relative.startswith("vendor/"):
            file = vendor / relative.removeprefix("vendor/")
            if file.suffix == ".css" and file.exists():  # and what the stylesheet loads
                for image in CSS_URL.findall(file.read_text()):
                    if not (file.parent / image).exists():
                        missing.append(f"{url} → {image}")
        elif (ROOT / "app/static" / relative).exists():
            file = ROOT / "app/static" / relative
            assert not _ignored(str(file.relative_to(ROOT)))
        else:  # served by a route, not a file (/static/categories.css)
            assert client.get(url).status_code == 200, url
            continue
        if not file.exists():
            missing.append(url)
    assert missing == []


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="docker compose is not installed here",
)
def test_docker_compose_config_is_valid() -> None:
    done = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
