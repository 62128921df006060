"""A private PostgreSQL cluster for the tests: initdb in a temp dir, a unix socket, no service.

initdb and the server refuse to run as root (CI runs the tests as root), so as root
the cluster is made and run as the unprivileged user `nobody` through subprocess's
own `user=`/`group=` (setuid/setgid in the child, no sudo or runuser needed); as
anyone else it runs as that user. Debian keeps the programs in
/usr/lib/postgresql/<version>/bin, off PATH.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

USER = "city"  # the cluster's superuser (trust authentication, socket only)


def pg_program(name: str) -> str:
    """The path of a PostgreSQL program (`initdb`, `pg_ctl`), the newest version first."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")),
        key=lambda path: int(path.split("/")[4].split(".")[0]),
        reverse=True,
    )
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: install Debian's `postgresql` package "
            "(scripts/bootstrap.sh --test does)"
        )
    return candidates[0]


@dataclass
class Cluster:
    """A running private cluster; `url` reaches its `postgres` database over the socket."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{USER}@/{name}?host={self.root}"

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=60, **_as_owner())

    def start(self) -> None:
        self._run(
            pg_program("pg_ctl"),
            "start",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            # Socket only, in our own folder: no port, nothing on the network.
            "-o",
            f"-k {self.root} -c listen_addresses='' -c fsync=off",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_program("pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data))

    def create_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)


def _as_owner() -> dict[str, Any]:
    """As root: run as `nobody` (its own group, no supplementary ones)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def make_cluster() -> Cluster:
    """initdb a cluster in a fresh temp dir and start it."""
    root = Path(tempfile.mkdtemp(prefix="nowserving-pg-"))
    if os.geteuid() == 0:  # the cluster's owner must reach and own its folder
        nobody = pwd.getpwnam("nobody")
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
    cluster = Cluster(root)
    cluster._run(
        pg_program("initdb"),
        "-D",
        str(cluster.data),
        "-U",
        USER,
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    )
    cluster.start()
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)
