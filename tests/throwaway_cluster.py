"""A throwaway PostgreSQL cluster for tests that stop and start the database: initdb in a
temporary folder, on a free port, run as the `postgres` user (initdb refuses root). The
machine's main cluster is never touched."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import _free_port

BIN = Path(os.environ.get("ASSETMAP_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"


def _as_server_user(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *command]
    return list(command)


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_server_user(str(BIN / "pg_ctl"), "-D", str(self.data), *args),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are cut, as when a database server goes away."""
        self._pg_ctl("-m", "fast", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    if not (BIN / "initdb").exists():
        import pytest

        pytest.skip(f"no PostgreSQL binaries in {BIN} (set ASSETMAP_PG_BIN)")
    folder = Path(tempfile.mkdtemp(prefix="assetmap-cluster-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER, SERVER_USER)
    cluster = Cluster(folder, _free_port())
    try:
        subprocess.run(
            _as_server_user(str(BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres",
                            "--auth=trust", "--encoding=UTF8", "--no-instructions"),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        # Already stopped, or never started: either way nothing is left running.
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
