"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder, `pg_ctl` on a free loopback
port, a database for Dagster, stopped and deleted at the end. The server binaries come from Debian's
`postgresql` package (.ci/run installs it); `initdb` refuses to run as root, so under root the server runs
as the package's `postgres` user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "ztdl"
PASSWORD = "ztdl-test-password"
DATABASE = "dagster"


def server_bin() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                     if Path(p).parent.name.isdigit() else 0, reverse=True)
    for folder in folders:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def missing_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if server_bin() is None:
        return ("PostgreSQL server binaries (initdb, pg_ctl) not found: `apt-get install postgresql` "
                "(.ci/run installs it)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no `postgres` user to run initdb as (Debian's postgresql package makes one)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user() -> tuple[dict, int | None]:
    """subprocess keyword arguments that run a command as the server's user, and that user's uid."""
    if os.geteuid() != 0:
        return {}, None
    entry = pwd.getpwnam("postgres")

    def drop():
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return {"preexec_fn": drop}, entry.pw_uid


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield the URL of its `dagster` database (password login over TCP on 127.0.0.1)."""
    import psycopg2

    binaries = server_bin()
    assert binaries is not None, missing_reason()
    kwargs, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="ztdl-pg-"))  # not under pytest's tmp_path: that is private to root
    data, log, pwfile = root / "data", root / "server.log", root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if uid is not None:
        os.chown(root, uid, -1)
        os.chown(pwfile, uid, -1)
    port = free_port()
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120, **kwargs)
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off "
               f"-c synchronous_commit=off -c full_page_writes=off")
    started = subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                              "-o", options, "start"], capture_output=True, text=True, timeout=90, **kwargs)
    try:
        assert started.returncode == 0, f"pg_ctl start failed: {started.stderr}\n{log.read_text()[-3000:]}"
        admin = psycopg2.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DATABASE}")
        admin.close()
        yield f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    finally:
        subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"],
                       capture_output=True, timeout=90, check=False, **kwargs)
        shutil.rmtree(root, ignore_errors=True)
