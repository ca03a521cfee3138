"""Where the real LMS schema files come from: found on this machine, or fetched and checked.

The real-schema test tiers load LMS's own ``lms.pgsql``/``lms.mysql`` (and the original PHP plugins'
schemas). A fresh clone has no ``../shared`` beside it, so a file is looked up, per file, in:

1. ``$LMS_SCHEMA_DIR`` (laid out as ``core/lms.pgsql``, ``plugins/<LMS class>/lms.pgsql``);
2. an LMS installation on this machine: ``$LMS_SYS_DIR``, else ``[directories] sys_dir`` of the
   ``lms.ini`` named by ``$LMS_CONFIG`` (default ``/etc/lms/lms.ini``); LMS keeps its schema in
   ``<sys_dir>/doc/`` and a plugin's in ``<sys_dir>/plugins/<class>/doc/``;
3. ``../shared/lms-schema`` beside the repository;
4. the cache (``$XDG_CACHE_HOME/lmsplugins/lms-schema``, default ``~/.cache/...``) that :func:`fetch`
   fills with the pinned versions from the projects' public repositories, each checked against its
   sha256 both when fetched and when used.

The first three are the administrator's own files and are used as they are; only fetched files are
pinned. Nothing fetched is ever written inside the repository.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lmsplugins.config import read_ini, resolve_config_path
from lmsplugins.errors import LMSPluginsError

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
HOW_TO_SET = (
    "set LMS_SCHEMA_DIR to a folder holding core/lms.pgsql, core/lms.mysql and plugins/<class>/, "
    "point LMS_SYS_DIR (or lms.ini [directories] sys_dir) at an LMS installation, "
    "or run scripts/test once with network access to fetch the pinned files"
)


class SchemaMissing(LMSPluginsError):
    """No source holds a schema file (or the one found cannot be used)."""


@dataclass(frozen=True)
class Pinned:
    """One schema file at the version the tests are written against. ``repo`` None: not published
    as such (a dump derived from other files), so it cannot be fetched."""

    relpath: str
    sha256: str
    repo: str | None = None
    commit: str = ""
    path: str = ""
    note: str = ""

    def url(self, base: str) -> str | None:
        if self.repo is None:
            return None
        return f"{base.rstrip('/')}/{self.repo}/{self.commit}/{self.path}"


_LMS = "chilek/lms"
_LMS_CORE = "d85aeab5b2fa6c51750d8844ac336c025fa3fc2d"
_LMS_MVNO = "b766d4691ea7cadf52cb24ee9d610b3e53d3f80e"
_GBN = "50aed8f0a512065ef08864cfbf994d9ff82e24fe"
_METROPORT = "1112ab0c70e4f17f00c083a353912aef1cf57c60"

PINNED: dict[str, Pinned] = {
    p.relpath: p
    for p in (
        Pinned(
            "core/lms.pgsql",
            "b25810758dae630dacbce40d27a51c915f3449e4964d55d8b49f70d42d583067",
            _LMS,
            _LMS_CORE,
            "doc/lms.pgsql",
        ),
        Pinned(
            "core/lms.mysql",
            "9f5e84649fdedf5fe731d3332e05ab67292e6354085ca17b125a82e1c8c2135d",
            _LMS,
            _LMS_CORE,
            "doc/lms.mysql",
        ),
        Pinned(
            "plugins/LMSHiperusPlugin/lms.pgsql",
            "8a6ab0f8a8f663b30da63a6d59f3eb48869fa1aab7488b4901cc08c5907086f0",
            "gbnpl/master",
            _GBN,
            "plugins/LMSHiperusPlugin/doc/lms.pgsql",
        ),
        Pinned(
            "plugins/LMSHiperusPlugin/lms.mysql",
            "f847d6b8905f7498844ccb348ea06b5e8be0fe9232deb3f4573b9db44adcc6e4",
            "gbnpl/master",
            _GBN,
            "plugins/LMSHiperusPlugin/doc/lms.mysql",
        ),
        Pinned(
            "plugins/LMSMetroportMVNOPlugin/lms.pgsql",
            "dd1bbbfbffecb0b13f02a3e16f81b76a805c4ef844a2d54a43bb7e8d34d9bb56",
            _LMS,
            _LMS_MVNO,
            "plugins/LMSMetroportMVNOPlugin/doc/lms.pgsql",
        ),
        Pinned(
            "plugins/LMSMetroportMVNOPlugin/lms.mysql",
            "1913d7eb3d17fe9c0aab4041a463b13209a5b426499fb62cace81ade819b30bb",
            _LMS,
            _LMS_MVNO,
            "plugins/LMSMetroportMVNOPlugin/doc/lms.mysql",
        ),
        Pinned(
            "plugins/LMSMetroportPlugin/lms.pgsql",
            "c12107ff6cd2a182ea7df5b2172da8bc1327785a2151811a52282321a73b6223",
            "przemeksw/LMSMetroportPlugin",
            _METROPORT,
            "doc/lms.pgsql",
        ),
        Pinned(
            "plugins/LMSMetroportPlugin/final-schema.pgsql",
            "e5bbc1d761c590ee5c768d98a48b10070b46c221fd73449e3560ab0bf486e3bb",
            note=(
                "a dump of the install file with upgrades 2025122300..2026032302 applied (the upgrades are PHP "
                "scripts), published nowhere as such: the take-over tests that need it run only where "
                "LMS_SCHEMA_DIR or ../shared/lms-schema holds it"
            ),
        ),
    )
}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lmsplugins" / "lms-schema"


def shared_dir() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared" / "lms-schema"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env_dir() -> Path | None:
    """``$LMS_SCHEMA_DIR``, refused with a clear message when it is set but cannot be read."""
    value = os.environ.get("LMS_SCHEMA_DIR")
    if not value:
        return None
    path = Path(value)
    if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
        raise SchemaMissing(f"LMS_SCHEMA_DIR={value} is not a readable directory; fix it or unset it")
    return path


def lms_sys_dir() -> Path | None:
    """The LMS installation: ``$LMS_SYS_DIR``, else lms.ini ``[directories] sys_dir``."""
    value = os.environ.get("LMS_SYS_DIR")
    if value:
        return Path(value)
    ini = resolve_config_path(None)
    if not ini.is_file():
        return None
    try:
        sys_dir = read_ini(ini).get("directories", {}).get("sys_dir")
    except LMSPluginsError:
        return None
    return Path(sys_dir) if sys_dir else None


def _in_lms_install(sys_dir: Path, relpath: str) -> Path:
    parts = relpath.split("/")
    if parts[0] == "core":
        return sys_dir / "doc" / parts[-1]
    return sys_dir / "plugins" / parts[1] / "doc" / parts[-1]


def candidates(relpath: str) -> list[tuple[str, Path]]:
    """Every place *relpath* may be, in look-up order, with the name of the source."""
    found: list[tuple[str, Path]] = []
    env = env_dir()
    if env is not None:
        found.append(("LMS_SCHEMA_DIR", env / relpath))
    sys_dir = lms_sys_dir()
    if sys_dir is not None:
        found.append(("LMS installation", _in_lms_install(sys_dir, relpath)))
    found.append(("../shared/lms-schema", shared_dir() / relpath))
    found.append(("cache", cache_dir() / relpath))
    return found


def resolve(relpath: str) -> Path:
    """The schema file *relpath* (``core/lms.pgsql``, ``plugins/<class>/lms.mysql``), or SchemaMissing
    with one line saying where it looked and what to set."""
    looked: list[str] = []
    for source, path in candidates(relpath):
        if not path.is_file():
            looked.append(str(path))
            continue
        if source == "cache":
            pinned = PINNED.get(relpath)
            if pinned is None or sha256_of(path) != pinned.sha256:
                looked.append(f"{path} (checksum does not match the pinned version)")
                continue
        if not os.access(path, os.R_OK):
            looked.append(f"{path} (not readable)")
            continue
        return path
    pinned = PINNED.get(relpath)
    extra = f" ({pinned.note})" if pinned is not None and pinned.note else ""
    raise SchemaMissing(f"no real LMS schema {relpath}{extra}: {HOW_TO_SET}; looked in {', '.join(looked)}")


class FetchError(LMSPluginsError):
    """A pinned file could not be fetched, or what came did not match its sha256."""


def fetch_one(pinned: Pinned, target_dir: Path, base_url: str, timeout: float = 30) -> Path:
    """Download *pinned* into *target_dir* after checking its sha256; nothing is written on a mismatch."""
    url = pinned.url(base_url)
    if url is None:
        raise FetchError(f"{pinned.relpath} cannot be fetched: {pinned.note}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"{pinned.relpath}: could not fetch {url}: {exc}") from None
    digest = hashlib.sha256(body).hexdigest()
    if digest != pinned.sha256:
        raise FetchError(
            f"{pinned.relpath}: {url} has sha256 {digest}, the pinned version has {pinned.sha256}; not used"
        )
    target = target_dir / pinned.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(body)
    os.replace(tmp.name, target)
    return target


def ensure(base_url: str | None = None, echo=print) -> int:
    """Fetch every pinned file that no source has; returns how many could not be had."""
    base = base_url or os.environ.get("LMS_SCHEMA_BASE_URL") or DEFAULT_BASE_URL
    try:
        env_dir()
    except SchemaMissing as exc:
        echo(f"lms-schema: {exc}")
        return len(PINNED)
    missing = 0
    for relpath, pinned in PINNED.items():
        try:
            resolve(relpath)
            continue
        except SchemaMissing:
            if pinned.repo is None:
                echo(f"lms-schema: {relpath} not found; {pinned.note}")
                continue
        try:
            path = fetch_one(pinned, cache_dir(), base)
        except FetchError as exc:
            echo(f"lms-schema: {exc}")
            missing += 1
        else:
            echo(f"lms-schema: fetched {relpath} -> {path}")
    return missing


def main(argv: list[str] | None = None) -> int:
    """``python -m lmsplugins.testing.schema_source [ensure|where]`` for the test command."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "ensure"
    if command == "where":
        for relpath in PINNED:
            try:
                print(f"{relpath}: {resolve(relpath)}")
            except SchemaMissing as exc:
                print(f"{relpath}: {exc}")
        return 0
    if command == "ensure":
        return 1 if ensure() else 0
    print(f"usage: python -m lmsplugins.testing.schema_source [ensure|where] (not {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
