"""Finding the real LMS schema: each source present and absent in look-up order, the pinned fetch through
a file:// URL with a good and a bad checksum, and the one line a run without any schema prints."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmsplugins.testing import schema_source as src

CORE = "core/lms.pgsql"


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No source at all: no env, no LMS install, no ../shared, an empty cache."""
    for var in ("LMS_SCHEMA_DIR", "LMS_SYS_DIR", "LMS_SCHEMA_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LMS_CONFIG", str(tmp_path / "no-lms.ini"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(src, "shared_dir", lambda: tmp_path / "no-shared")
    return tmp_path


def _put(path: Path, body: bytes = b"-- schema\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def test_nothing_found_says_what_to_set(nowhere: Path):
    with pytest.raises(src.SchemaMissing) as err:
        src.resolve(CORE)
    message = str(err.value)
    assert "\n" not in message
    assert "set LMS_SCHEMA_DIR" in message and "LMS_SYS_DIR" in message and "scripts/test" in message


def test_each_source_in_order(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    pinned = src.PINNED[CORE]
    cached = _put(nowhere / "cache" / "lmsplugins" / "lms-schema" / CORE, b"not the pinned file")
    with pytest.raises(src.SchemaMissing, match="checksum does not match"):
        src.resolve(CORE)

    monkeypatch.setattr(src, "PINNED", {**src.PINNED, CORE: src.Pinned(CORE, hashlib.sha256(b"x").hexdigest())})
    cached.write_bytes(b"x")
    assert src.resolve(CORE) == cached
    monkeypatch.setattr(src, "PINNED", {**src.PINNED, CORE: pinned})

    shared = _put(nowhere / "no-shared" / CORE)
    assert src.resolve(CORE) == shared

    lms = nowhere / "lms"
    installed = _put(lms / "doc" / "lms.pgsql")
    plugin = _put(lms / "plugins" / "LMSHiperusPlugin" / "doc" / "lms.pgsql")
    (nowhere / "no-lms.ini").write_text(f"[directories]\nsys_dir = {lms}\n", encoding="utf-8")
    assert src.resolve(CORE) == installed
    assert src.resolve("plugins/LMSHiperusPlugin/lms.pgsql") == plugin
    other = nowhere / "lms2"
    monkeypatch.setenv("LMS_SYS_DIR", str(other))
    assert src.resolve(CORE) == shared, "LMS_SYS_DIR wins over lms.ini and has no schema: next source"
    monkeypatch.delenv("LMS_SYS_DIR")

    env_dir = nowhere / "env"
    env_file = _put(env_dir / CORE)
    monkeypatch.setenv("LMS_SCHEMA_DIR", str(env_dir))
    assert src.resolve(CORE) == env_file
    assert src.resolve("plugins/LMSHiperusPlugin/lms.pgsql") == plugin, "missing in LMS_SCHEMA_DIR: next source"


def test_unreadable_schema_dir_is_refused_with_its_name(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    locked = nowhere / "locked"
    _put(locked / CORE)
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads any directory (CI runs as root): deny it as the kernel would a user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked and real_access(p, mode, **kw))
    monkeypatch.setenv("LMS_SCHEMA_DIR", str(locked))
    try:
        with pytest.raises(src.SchemaMissing, match=r"LMS_SCHEMA_DIR=.*not a readable directory"):
            src.resolve(CORE)
    finally:
        locked.chmod(0o755)


def test_schema_dir_that_is_not_a_directory_is_refused(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LMS_SCHEMA_DIR", str(nowhere / "missing"))
    with pytest.raises(src.SchemaMissing, match=r"LMS_SCHEMA_DIR=.*missing is not a readable directory"):
        src.resolve(CORE)
    lines: list[str] = []
    assert src.ensure(echo=lines.append) > 0
    assert lines == [
        f"lms-schema: LMS_SCHEMA_DIR={nowhere / 'missing'} is not a readable directory; fix it or unset it"
    ]


def _mirror(root: Path, pinned: src.Pinned, body: bytes) -> str:
    assert pinned.repo is not None
    _put(root / pinned.repo / pinned.commit / pinned.path, body)
    return root.as_uri()


def test_fetch_checks_the_sha256_before_use(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    good = b"CREATE TABLE pinned (id int);\n"
    pinned = src.Pinned(CORE, hashlib.sha256(good).hexdigest(), "chilek/lms", "c0ffee", "doc/lms.pgsql")
    monkeypatch.setattr(src, "PINNED", {CORE: pinned})

    bad_base = _mirror(nowhere / "bad", pinned, b"tampered")
    lines: list[str] = []
    assert src.ensure(bad_base, echo=lines.append) == 1
    assert len(lines) == 1 and "has sha256" in lines[0] and "not used" in lines[0]
    assert not (src.cache_dir() / CORE).exists(), "a file with a wrong checksum is never stored"
    with pytest.raises(src.SchemaMissing):
        src.resolve(CORE)

    good_base = _mirror(nowhere / "good", pinned, good)
    lines.clear()
    assert src.ensure(good_base, echo=lines.append) == 0
    assert lines == [f"lms-schema: fetched {CORE} -> {src.cache_dir() / CORE}"]
    assert src.resolve(CORE).read_bytes() == good

    lines.clear()
    assert src.ensure(bad_base, echo=lines.append) == 0 and lines == [], "found in the cache: nothing fetched"

    (src.cache_dir() / CORE).write_bytes(b"changed on disk")
    with pytest.raises(src.SchemaMissing, match="checksum"):
        src.resolve(CORE)


def test_unreachable_url_is_one_line(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    pinned = src.PINNED[CORE]
    monkeypatch.setattr(src, "PINNED", {CORE: pinned})
    lines: list[str] = []
    assert src.ensure((nowhere / "empty").as_uri(), echo=lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith(f"lms-schema: {CORE}: could not fetch file://")


def test_derived_dump_is_named_not_fetched(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    relpath = "plugins/LMSMetroportPlugin/final-schema.pgsql"
    monkeypatch.setattr(src, "PINNED", {relpath: src.PINNED[relpath]})
    lines: list[str] = []
    assert src.ensure((nowhere / "x").as_uri(), echo=lines.append) == 0
    assert len(lines) == 1 and "published nowhere" in lines[0]


def test_pinned_files_match_the_shared_copies():
    """The hashes are those of the versions the tests were written against (../shared/lms-schema)."""
    shared = src.shared_dir()
    if not shared.is_dir():
        pytest.skip("no ../shared/lms-schema beside this checkout to compare with")
    for relpath, pinned in src.PINNED.items():
        assert src.sha256_of(shared / relpath) == pinned.sha256, relpath


_RUN_WITHOUT_SCHEMA = """
import sys
from pathlib import Path
import pytest
from lmsplugins.testing import schema_source
schema_source.shared_dir = lambda: Path(sys.argv[1]) / "no-shared"
sys.exit(pytest.main(["-q", "-ra", "-p", "no:cacheprovider", "-p", "lmsplugins.testing.fixtures", sys.argv[2]]))
"""


@pytest.mark.postgres
@pytest.mark.parametrize("ci", ["", "true"])
def test_real_schema_tier_without_a_schema_stops_with_one_line(tmp_path: Path, ci: str):
    from lmsplugins.testing.databases import pg_unavailable

    if pg_unavailable():
        pytest.skip("needs PostgreSQL")
    tests = tmp_path / "test_needs_schema.py"
    tests.write_text("def test_a(pg_host):\n    pass\n\ndef test_b(pg_host):\n    pass\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LMS_SCHEMA_DIR", "LMS_SYS_DIR", "PYTEST_ADDOPTS")}
    env.update(CI=ci, LMS_CONFIG=str(tmp_path / "none.ini"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT_SCHEMA, str(tmp_path), str(tests)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    mentions = [line for line in out.splitlines() if "no real LMS schema core/lms.pgsql" in line]
    assert len(mentions) == 1, out
    assert "2 real-schema tests not run" in mentions[0] and "set LMS_SCHEMA_DIR" in mentions[0]
    if ci:
        assert proc.returncode == 3, out
        assert "CI=true" in mentions[0], out
    else:
        assert proc.returncode == 5, out
        assert "2 deselected" in out
