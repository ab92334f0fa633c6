"""Backups that can be restored: the database and every evidence file, with a manifest.

A backup folder holds:
  database.sqlite3 | database.pgdump | database.sql   the database (one of)
  files/<ticket id>/<evidence id>-<hex>               every evidence file, by storage key
  manifest.json                                       what is there, SHA-256 of each file,
                                                      row counts, the audit chain's head
  SHA256SUMS                                          the same hashes for `sha256sum -c`

The database is copied first and the files after, so every file a copied row names is in
the backup (evidence files are never changed in place, only added). SQLite is copied with
the online backup API, PostgreSQL with `pg_dump` inside an exported snapshot (the row
counts in the manifest are counted in that very snapshot), MariaDB with
`mysqldump --single-transaction`.

`restore_backup` rebuilds a *fresh* installation: it refuses a database or a storage that
already holds anything, checks every hash before writing, then compares the restored row
counts with the manifest and verifies the audit chain.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
# pg_dump, pg_restore, mysqldump and mysql run with argument lists, never through a shell.
import subprocess  # nosec B404
import tempfile
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import URL

from tracker.extensions import db
from tracker.models.base import utcnow
from tracker.services import audit, storage

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FILES = "files"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump",
                  "mysql": "database.sql"}
#: Seconds a dump or restore tool may run.
TOOL_TIMEOUT = int(os.environ.get("BACKUP_TOOL_TIMEOUT", 3600))


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _url() -> URL:
    return db.engine.url


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupError(f"backups are not supported for the {name} database")
    return name


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed on this machine; it is needed for this "
                          f"database")
    return found


def _run(args: list[str], env: dict[str, str], stdin=None, stdout=None) -> None:
    try:
        completed = subprocess.run(args, env=env, stdin=stdin, stdout=stdout,  # nosec B603
                                   stderr=subprocess.PIPE, timeout=TOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{Path(args[0]).name} did not finish within {TOOL_TIMEOUT}s") \
            from error
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise BackupError(f"{Path(args[0]).name} failed: {message}")


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--no-password"]
    return args, env


def _mysql_args(url: URL) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ}
    if url.password:
        env["MYSQL_PWD"] = str(url.password)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 3306),
            "--user", url.username or "root", "--default-character-set=utf8mb4"]
    return args, env


def _table_names() -> list[str]:
    return [t.name for t in db.metadata.sorted_tables]


def _count_rows(connection) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in present:
            counts[table.name] = connection.execute(
                select(func.count()).select_from(table)).scalar_one()
    return counts


def _alembic_revision(connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --- backup -------------------------------------------------------------------------------

def _dump_sqlite(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    raw = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)  # online: readers and writers go on
        finally:
            destination.close()
    finally:
        raw.close()
    # Count and verify in the copy itself, so the manifest describes exactly what it holds.
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            counts = _count_rows(connection)
            chain = audit.verify(connection)
            revision = _alembic_revision(connection)
    finally:
        engine.dispose()
    return counts, {"events": chain.events, "head_hash": chain.head_hash,
                    "intact": chain.ok, "alembic_revision": revision}


def _dump_postgresql(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    url = _url()
    args, env = _pg_args(url)
    with db.engine.connect() as connection:
        # One snapshot for the counts and the dump: the manifest matches the dump exactly.
        connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        counts = _count_rows(connection)
        chain = audit.verify(connection)
        revision = _alembic_revision(connection)
        _run([_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", "--file", str(target), url.database or "postgres"], env)
        connection.exec_driver_sql("COMMIT")
    return counts, {"events": chain.events, "head_hash": chain.head_hash,
                    "intact": chain.ok, "alembic_revision": revision}


def _dump_mysql(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    url = _url()
    args, env = _mysql_args(url)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        counts = _count_rows(connection)
        chain = audit.verify(connection)
        revision = _alembic_revision(connection)
        with open(target, "wb") as out:
            _run([_tool("mysqldump"), *args, "--single-transaction", "--routines", "--triggers",
                  "--hex-blob", "--skip-comments", url.database or ""], env, stdout=out)
        connection.exec_driver_sql("COMMIT")
    return counts, {"events": chain.events, "head_hash": chain.head_hash,
                    "intact": chain.ok, "alembic_revision": revision}


def _copy_files(directory: Path) -> list[dict[str, Any]]:
    backend = storage.get_storage()
    entries = []
    for item in sorted(backend.list(), key=lambda o: o.key):
        if not storage.KEY_PATTERN.match(item.key):
            continue  # files being received (temporary), nothing of the record
        target = directory / FILES / item.key
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            with backend.open(item.key) as source, open(target, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except (storage.StorageError, OSError) as error:
            raise BackupError(f"could not copy evidence file {item.key}: {error}") from error
        entries.append({"key": item.key, "sha256": digest.hexdigest(), "size": size})
    return entries


def _missing_evidence(keys: set[str]) -> list[str]:
    """Evidence rows whose file is not in the backup (should never happen)."""
    from tracker.models import Evidence

    rows = db.session.execute(select(Evidence.id, Evidence.storage_key)).all()
    return [f"evidence {row.id}: {row.storage_key}" for row in rows if row.storage_key not in keys]


def create_backup(directory: Path) -> dict[str, Any]:
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; back up into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    dialect = _dialect()
    database_file = directory / DATABASE_FILES[dialect]
    dump = {"sqlite": _dump_sqlite, "postgresql": _dump_postgresql, "mysql": _dump_mysql}
    counts, chain = dump[dialect](database_file)
    files = _copy_files(directory)
    missing = _missing_evidence({entry["key"] for entry in files})
    db.session.rollback()
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "dialect": dialect,
        "alembic_revision": chain.pop("alembic_revision"),
        "database": {"file": database_file.name, "format": {
            "sqlite": "sqlite", "postgresql": "pg_dump-custom", "mysql": "mysqldump"}[dialect],
            "sha256": sha256_of(database_file), "size": database_file.stat().st_size},
        "row_counts": counts,
        "audit": chain,
        "files": files,
        "missing_files": missing,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                      "utf-8")
    sums = [f"{manifest['database']['sha256']}  {database_file.name}"]
    sums += [f"{entry['sha256']}  {FILES}/{entry['key']}" for entry in files]
    (directory / SUMS).write_text("\n".join(sums) + "\n", "utf-8")
    current_app.logger.info("backup written to %s: %d files, %d rows", directory, len(files),
                            sum(counts.values()))
    if missing:
        raise BackupError("backup written, but evidence files are missing from storage: "
                          + "; ".join(missing[:20]))
    return manifest


# --- restore ------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def check_backup(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file is there with the hash the manifest gives it."""
    problems = []
    database = Path(directory) / manifest["database"]["file"]
    if not database.is_file() or sha256_of(database) != manifest["database"]["sha256"]:
        problems.append(f"{database.name}: missing or changed")
    for entry in manifest["files"]:
        storage.check_key(entry["key"])
        path = Path(directory) / FILES / entry["key"]
        if not path.is_file() or sha256_of(path) != entry["sha256"]:
            problems.append(f"{FILES}/{entry['key']}: missing or changed")
    if problems:
        raise BackupError("the backup is damaged, nothing was restored: "
                          + "; ".join(problems[:20]))


def _check_fresh() -> None:
    with db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names()) & (set(_table_names())
                                                               | {"alembic_version"})
    if tables:
        raise BackupError("the database already has tables (" + ", ".join(sorted(tables)[:5])
                          + "…); restore only into a new, empty database")
    if any(storage.KEY_PATTERN.match(item.key) for item in storage.get_storage().list()):
        raise BackupError("the evidence storage already holds files; restore only into an "
                          "empty folder or bucket")


def _restore_sqlite(source: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    origin = sqlite3.connect(source)
    raw = db.engine.raw_connection()
    try:
        origin.backup(raw.driver_connection)
    finally:
        raw.close()
        origin.close()
    db.engine.dispose()


def _restore_postgresql(source: Path) -> None:
    url = _url()
    args, env = _pg_args(url)
    db.session.remove()
    db.engine.dispose()
    _run([_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", "--dbname", url.database or "postgres", str(source)], env)


def _restore_mysql(source: Path) -> None:
    url = _url()
    args, env = _mysql_args(url)
    db.session.remove()
    db.engine.dispose()
    with open(source, "rb") as dump:
        _run([_tool("mysql"), *args, url.database or ""], env, stdin=dump)


def _restore_files(directory: Path, manifest: dict[str, Any]) -> None:
    backend = storage.get_storage()
    for entry in manifest["files"]:
        handle, temp = tempfile.mkstemp(dir=backend.temp_dir(), prefix="restore-")
        os.close(handle)
        shutil.copyfile(Path(directory) / FILES / entry["key"], temp)
        try:
            backend.put(Path(temp), entry["key"])
        except storage.StorageError as error:
            Path(temp).unlink(missing_ok=True)
            raise BackupError(f"could not restore evidence file {entry['key']}: {error}") \
                from error


def restore_backup(directory: Path) -> dict[str, Any]:
    directory = Path(directory)
    manifest = read_manifest(directory)
    dialect = _dialect()
    if manifest["dialect"] != dialect:
        raise BackupError(f"this backup is of a {manifest['dialect']} database; this "
                          f"installation uses {dialect}")
    check_backup(directory, manifest)
    _check_fresh()
    source = directory / manifest["database"]["file"]
    {"sqlite": _restore_sqlite, "postgresql": _restore_postgresql,
     "mysql": _restore_mysql}[dialect](source)
    _restore_files(directory, manifest)
    with db.engine.connect() as connection:
        counts = _count_rows(connection)
        chain = audit.verify(connection)
    problems = [f"{name}: {counts.get(name)} rows, the backup had {expected}"
                for name, expected in manifest["row_counts"].items()
                if counts.get(name) != expected]
    if not chain.ok or chain.head_hash != manifest["audit"]["head_hash"]:
        problems.append("the audit chain does not match the backup's: "
                        + "; ".join(chain.problems[:5]))
    if problems:
        raise BackupError("restored, but the result differs from the backup: "
                          + "; ".join(problems[:20]))
    return {"rows": sum(counts.values()), "files": len(manifest["files"]),
            "audit_events": chain.events}
