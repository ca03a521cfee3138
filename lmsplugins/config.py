"""The one config reader: ``lms.ini`` with PHP semantics, overlaid by ``uiconfig`` as LMS does.

LMS reads its ini file with PHP ``parse_ini_file(path, true)`` in ``INI_SCANNER_NORMAL`` mode and then
lets database rows in ``uiconfig`` override it (specs/lms_core.md 1.1, 1.2). An administrator expects
the same value here as in LMS, so this module reproduces both steps instead of using ``configparser``,
whose rules differ (``#`` comments, ``%`` interpolation, no bare ``yes`` -> ``"1"``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lmsplugins.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/lms/lms.ini")

_TRUE_WORDS = {"1", "y", "on", "yes", "true", "tak", "t", "enabled"}
_FALSE_WORDS = {"0", "n", "no", "off", "false", "nie", "disabled"}
# parse_ini_file turns these bare (unquoted) words into "1" or "".
_INI_TRUE = {"on", "yes", "true"}
_INI_FALSE = {"off", "no", "false", "none", "null"}

_SECTION_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]\s*(?:;.*)?$")
_KEY_RE = re.compile(r"^([^=;\[\]\"']+?)\s*(\[[^\]]*\])?\s*=\s*(.*)$")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: str) -> str:
    return _ENV_RE.sub(lambda m: os.environ.get(m.group(1), ""), value)


def _parse_value(raw: str, where: str) -> str:
    """Parse the right-hand side of ``key = value`` the way INI_SCANNER_NORMAL does."""
    out: list[str] = []
    i, n = 0, len(raw)
    bare = True
    while i < n:
        ch = raw[i]
        if ch == '"':
            end = raw.find('"', i + 1)
            while end != -1 and raw[end - 1] == "\\":
                end = raw.find('"', end + 1)
            if end == -1:
                raise ConfigError(f"{where}: unterminated double quote; close the quoted value")
            out.append(_expand_env(raw[i + 1 : end].replace('\\"', '"')))
            bare = False
            i = end + 1
        elif ch == "'":
            end = raw.find("'", i + 1)
            if end == -1:
                raise ConfigError(f"{where}: unterminated single quote; close the quoted value")
            out.append(raw[i + 1 : end])
            bare = False
            i = end + 1
        elif ch == ";":
            break
        else:
            j = i
            while j < n and raw[j] not in "\"';":
                j += 1
            out.append(_expand_env(raw[i:j]))
            i = j
    value = "".join(out).strip() if bare else "".join(out).strip(" \t")
    if bare:
        low = value.lower()
        if low in _INI_TRUE:
            return "1"
        if low in _INI_FALSE:
            return ""
    return value


def parse_ini(text: str, source: str = "lms.ini") -> dict[str, dict[str, str]]:
    """Parse ini *text* into ``{section: {key: value}}`` with PHP ``parse_ini_file`` rules.

    ``key[] = v`` lines are joined with commas, which is how the host reads list settings.
    Keys outside any section land in section ``""``.
    """
    data: dict[str, dict[str, str]] = {}
    section = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        where = f"{source} line {lineno}"
        m = _SECTION_RE.match(stripped)
        if m:
            section = m.group(1).strip()
            data.setdefault(section, {})
            continue
        m = _KEY_RE.match(stripped)
        if not m:
            raise ConfigError(f"{where}: expected 'key = value' or '[section]', found {stripped[:40]!r}")
        key, is_array, raw = m.group(1).strip(), m.group(2), m.group(3)
        value = _parse_value(raw, where)
        bucket = data.setdefault(section, {})
        if is_array and bucket.get(key):
            bucket[key] = f"{bucket[key]},{value}"
        else:
            bucket[key] = value
    return data


def resolve_config_path(cli_path: str | os.PathLike[str] | None) -> Path:
    """``-C/--config-file``, else ``$LMS_CONFIG``, else ``/etc/lms/lms.ini`` (as LMS's CLI scripts)."""
    if cli_path:
        return Path(cli_path)
    env = os.environ.get("LMS_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def read_ini(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"Unable to read configuration file [{path}]") from None
    return parse_ini(text, str(path))


def to_bool(value: str | bool | int | None, default: bool = False) -> bool:
    """LMS's ``checkConfig``: its yes/no words (Polish too); empty means the default."""
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    low = str(value).strip().lower()
    if low == "":
        return default
    if low in _TRUE_WORDS:
        return True
    if low in _FALSE_WORDS:
        return False
    raise ConfigError(f"{value!r} is not a yes/no value (use one of: yes, no, true, false, 1, 0, tak, nie)")


@dataclass(frozen=True)
class UiConfigRow:
    section: str
    var: str
    value: str
    userid: int | None = None
    divisionid: int | None = None
    disabled: int = 0
    id: int | None = None


def _layer(row: UiConfigRow, divisionid: int | None, userid: int | None) -> int | None:
    """Precedence layer of a row for this (division, user) context; None when it does not apply.

    ini is layer 0; then global rows, the division's rows, the division's rows for the user, and
    last the user's rows without a division, which LMS (as coded) lets beat division+user rows.
    """
    if row.userid is None and row.divisionid is None:
        return 1
    if row.userid is None and row.divisionid == divisionid and divisionid is not None:
        return 2
    if row.userid == userid and userid is not None and row.divisionid == divisionid and divisionid is not None:
        return 3
    if row.userid == userid and userid is not None and row.divisionid is None:
        return 4
    return None


@dataclass
class Config:
    """Resolved settings: ini values overlaid by uiconfig rows for one (division, user) context.

    Keys are ``"section.var"``. An empty value at any layer counts as unset, so it neither overrides
    a lower layer nor beats a default.
    """

    ini: dict[str, dict[str, str]] = field(default_factory=dict)
    path: Path | None = None
    ui_rows: tuple[UiConfigRow, ...] = ()
    divisionid: int | None = None
    userid: int | None = None
    _values: dict[str, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rebuild()

    @classmethod
    def load(cls, cli_path: str | os.PathLike[str] | None = None) -> Config:
        path = resolve_config_path(cli_path)
        return cls(ini=read_ini(path), path=path)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Mapping[str, str]]) -> Config:
        return cls(ini={s: dict(v) for s, v in values.items()})

    def with_uiconfig(
        self, rows: Iterable[UiConfigRow], divisionid: int | None = None, userid: int | None = None
    ) -> Config:
        return Config(ini=self.ini, path=self.path, ui_rows=tuple(rows), divisionid=divisionid, userid=userid)

    def _rebuild(self) -> None:
        values: dict[str, tuple[str, str]] = {}
        for section, items in self.ini.items():
            for var, value in items.items():
                if value != "":
                    values[f"{section}.{var}".lower()] = (value, "lms.ini")
        best: dict[str, int] = {}
        for row in self.ui_rows:
            if row.disabled or row.value == "":
                continue
            layer = _layer(row, self.divisionid, self.userid)
            if layer is None:
                continue
            key = f"{row.section}.{row.var}".lower()
            if layer >= best.get(key, 0):
                best[key] = layer
                values[key] = (row.value, f"uiconfig #{row.id}" if row.id is not None else "uiconfig")
        self._values = values

    def get(self, key: str, default: str | None = None) -> str | None:
        found = self._values.get(key.lower())
        return found[0] if found else default

    def source(self, key: str) -> str | None:
        """Where the effective value of *key* comes from (``lms.ini`` or ``uiconfig #id``)."""
        found = self._values.get(key.lower())
        return found[1] if found else None

    def __contains__(self, key: str) -> bool:
        return key.lower() in self._values

    def get_str(self, key: str, default: str = "") -> str:
        value = self.get(key)
        return default if value is None else value

    def get_int(self, key: str, default: int = 0) -> int:
        value = self.get(key)
        if value is None:
            return default
        try:
            return int(value.strip())
        except ValueError:
            raise ConfigError(f"setting {key} = {value!r} is not a whole number") from None

    def get_bool(self, key: str, default: bool = False) -> bool:
        try:
            return to_bool(self.get(key), default)
        except ConfigError as exc:
            raise ConfigError(f"setting {key}: {exc}") from None

    def get_list(self, key: str, default: Iterable[str] = ()) -> list[str]:
        """A list setting: items split on commas, semicolons and white space (as ``phpui.plugins``)."""
        value = self.get(key)
        if value is None:
            return list(default)
        return [item for item in re.split(r"[;,\s]+", value) if item]

    def section(self, name: str) -> dict[str, str]:
        prefix = name.lower() + "."
        return {k[len(prefix) :]: v for k, (v, _) in self._values.items() if k.startswith(prefix)}

    def database_params(self) -> dict[str, str]:
        """The ``[database]`` section as LMS reads it: straight from the ini file, never uiconfig."""
        return {k.lower(): v for k, v in self.ini.get("database", {}).items()}
