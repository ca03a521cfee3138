"""Rights as LMS grants them: ``users.rights`` is a comma-separated list of permission names.

``full_access`` (LMS's superuser) implies every permission except the ``hide_*`` ones, which hide
data and are never implied (``checkPrivilege`` in LMS). Plugins declare their own names (for
example ``hiperus_full_access``); the host adds :data:`HOST_PERMISSIONS`, so an administrator grants
access to our pages in the same place as to LMS's modules.
"""

from __future__ import annotations

from collections.abc import Iterable

from lmsplugins.plugin import Permission

SUPERUSER = "full_access"
ADMIN = "lmsplugins_admin"
CUSTOMER_READ = ("customer_management", "read_only")
"""LMS permissions that let a user see customers; any one of them opens our customer pages."""

HOST_PERMISSIONS = (Permission(ADMIN, "lmsplugins: plugins, settings and job runs"),)


def parse_rights(raw: str | None) -> frozenset[str]:
    """``"full_access, voip_billings"`` -> ``{"full_access", "voip_billings"}``."""
    return frozenset(p.strip().lower() for p in (raw or "").split(",") if p.strip())


class Rights:
    """The permissions of one user; ``has`` answers like LMS's ``checkPrivilege``."""

    def __init__(self, names: Iterable[str]):
        self.names = frozenset(n.lower() for n in names)

    @classmethod
    def parse(cls, raw: str | None) -> Rights:
        return cls(parse_rights(raw))

    @property
    def superuser(self) -> bool:
        return SUPERUSER in self.names

    def has(self, name: str) -> bool:
        name = name.lower()
        if name in self.names:
            return True
        return self.superuser and not name.startswith("hide_")

    def has_any(self, names: Iterable[str]) -> bool:
        return any(self.has(n) for n in names)

    def __repr__(self) -> str:
        return f"Rights({sorted(self.names)})"
