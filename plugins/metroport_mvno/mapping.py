"""Pure functions from Metroport API records to LMS rows (spec metroport_mvno §5, §6): no I/O.

Everything that decides *what* the database should hold lives here, so it is tested with plain values;
the job only fetches, calls these and hands the rows to the host's gateways. The PHP script's defects
listed in spec §8 are fixed here, not copied:

* identities are matched by the host's normalisers on both sides, and an identifier shared by two LMS
  customers, or by two Metroport users, is reported and never bound (PHP bound duplicates under ``-q``
  and could bind one user to two customers);
* an unknown SIM status, traffic type or ``billingfield`` is an error for that record (PHP reused the
  previous record's value);
* ``retail_vat`` may be a multiplier (1.23), a fraction (0.23) or a percentage (23): all give the same
  gross price (PHP multiplied blindly, so a percentage inflated prices 23 times);
* call dates are wall-clock times of an explicit zone, stored as unix timestamps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lmsplugins.lms.customers import IdentityIndex, Match, normalize_icn, normalize_ssn, normalize_ten
from lmsplugins.lms.voip import (
    CDR_COLUMNS,
    DIRECTION_INCOMING,
    DIRECTION_OUTGOING,
    STATUS_UNKNOWN,
    TYPE_DATA,
    TYPE_MMS,
    TYPE_SMS,
    TYPE_VIDEO,
    TYPE_VOICE,
)

from .client import BillingRecord, MetroportUser, MobileAccount

COUNTRY_PREFIX = "48"
ACCESS = {"active": 1, "new": 1, "blocked": 0, "deleted": -1}
"""SIM status -> ``voipaccounts.access``; -1 marks an account Metroport deleted (spec §6.2)."""
CDR_TYPES = {"call": TYPE_VOICE, "sms": TYPE_SMS, "mms": TYPE_MMS, "data": TYPE_DATA, "video": TYPE_VIDEO}
DATA_UNIT = 1024
"""``datatransfer`` is in kB; LMS's billing list shows data ``billedtime`` as bytes (spec §4.6)."""
_PRICE_STEP = Decimal("0.00001")
_ZERO, _ONE, _TWO, _HUNDRED = Decimal(0), Decimal(1), Decimal(2), Decimal(100)


class UnknownStatus(ValueError):
    """A SIM status outside active/new/blocked/deleted: the account is left alone and reported."""


# --------------------------------------------------------------------------------------------------
# Customers


def identity(user: MetroportUser) -> dict[str, str]:
    """A user's normalised NIP, PESEL and ID-card number ('' where missing or malformed)."""
    return {"ten": normalize_ten(user.nip), "ssn": normalize_ssn(user.pesel), "icn": normalize_icn(user.idcardno)}


def describe_identity(ident: Mapping[str, str]) -> str:
    labels = {"ten": "TEN", "ssn": "SSN", "icn": "ICN"}
    return ", ".join(f"{labels[k]} {v}" for k, v in ident.items() if v) or "no identifiers"


@dataclass
class BindingPlan:
    """What customer matching decided: bindings to write and every reason a user was not bound."""

    bindings: list[tuple[int, MetroportUser, str]] = field(default_factory=list)
    """(LMS customer id, Metroport user, identifier kind that matched)."""
    already_bound: int = 0
    insufficient: list[MetroportUser] = field(default_factory=list)
    unmatched: list[MetroportUser] = field(default_factory=list)
    ambiguous_lms: list[tuple[MetroportUser, Match]] = field(default_factory=list)
    ambiguous_users: list[tuple[MetroportUser, Match, list[int]]] = field(default_factory=list)
    customer_taken: list[tuple[MetroportUser, int, list[str]]] = field(default_factory=list)
    other_customer: int = 0

    @property
    def not_bound(self) -> int:
        return (
            len(self.insufficient)
            + len(self.unmatched)
            + len(self.ambiguous_lms)
            + len(self.ambiguous_users)
            + len(self.customer_taken)
        )


def plan_bindings(
    users: Iterable[MetroportUser],
    index: IdentityIndex,
    bound: Mapping[int, list[str]],
    only_customer: int | None = None,
) -> BindingPlan:
    """Decide which Metroport users to bind to which LMS customers.

    *index* holds every non-deleted LMS customer (customers with other providers' extids included);
    *bound* is customer -> its Metroport extids. A user already bound anywhere is left as it is, so
    manual bindings win. A customer gets at most one Metroport user and a user at most one customer,
    also within one run. With *only_customer*, ambiguity is still judged against everybody.
    """
    plan = BindingPlan()
    users = sorted(users, key=lambda u: u.id)
    bound_users = {extid for extids in bound.values() for extid in extids}
    taken = {cid: list(extids) for cid, extids in bound.items() if extids}
    idents = {u.id: identity(u) for u in users}
    sharing: dict[tuple[str, str], list[int]] = defaultdict(list)
    for u in users:
        for kind, value in idents[u.id].items():
            if value:
                sharing[(kind, value)].append(u.id)
    for u in users:
        ident = idents[u.id]
        if str(u.id) in bound_users:
            plan.already_bound += 1
            continue
        if not any(ident.values()):
            plan.insufficient.append(u)
            continue
        match = index.find(**ident)
        if match.ambiguous:
            plan.ambiguous_lms.append((u, match))
            continue
        if not match.found:
            plan.unmatched.append(u)
            continue
        assert match.by is not None and match.customer_id is not None
        others = [uid for uid in sharing[(match.by, match.value)] if uid != u.id]
        if others:
            plan.ambiguous_users.append((u, match, others))
            continue
        if only_customer is not None and match.customer_id != only_customer:
            plan.other_customer += 1
            continue
        if match.customer_id in taken:
            plan.customer_taken.append((u, match.customer_id, taken[match.customer_id]))
            continue
        taken[match.customer_id] = [str(u.id)]
        plan.bindings.append((match.customer_id, u, match.by))
    return plan


# --------------------------------------------------------------------------------------------------
# Accounts


def phone_of(ano: str) -> str:
    """LMS keeps Metroport numbers as 48 + ano, without '+' (spec §6.2)."""
    return COUNTRY_PREFIX + ano


def access_for(mobile: MobileAccount) -> int:
    try:
        return ACCESS[mobile.status]
    except KeyError:
        raise UnknownStatus(f"unknown status {mobile.status!r} of MVNO account #{mobile.id}") from None


@dataclass(frozen=True)
class AccountAction:
    """One decision of the account sync: ``kind`` is bind, create, update, delete, keep or skip."""

    kind: str
    mobile: MobileAccount
    account_id: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    old_phone: str | None = None
    reason: str = ""


def plan_account(
    mobile: MobileAccount,
    customer_id: int,
    accounts: list[Mapping[str, Any]],
    by_extid: Mapping[str, Mapping[str, Any]],
) -> AccountAction:
    """Decide what to do with one SIM of a bound customer (spec §6.2, with §8.4 fixed).

    *accounts* are the customer's own VoIP accounts (with ``numbers``: [(id, phone)]); *by_extid* maps
    Metroport extids to accounts of the provider, whoever owns them. Binding only ever picks the
    customer's own account; the extid match is exact; a deleted SIM is never created.
    """
    access = access_for(mobile)
    phone = phone_of(mobile.ano)
    extid = str(mobile.id)
    existing = by_extid.get(extid)
    if existing is None:
        for account in accounts:
            numbers = [p for _, p in account["numbers"]]
            if numbers == [phone] and not (account["extid"] or "").strip():
                return AccountAction("bind", mobile, account["id"])
    if existing is not None:
        if existing["ownerid"] != customer_id:
            return AccountAction(
                "skip",
                mobile,
                existing["id"],
                reason=f"LMS account #{existing['id']} belongs to customer "
                f"#{existing['ownerid']}, not #{customer_id}; left alone",
            )
        new_access = access if mobile.status_confirmed else existing["access"]
        if access == -1 and mobile.status_confirmed:
            return AccountAction("delete", mobile, existing["id"])
        numbers = [p for _, p in existing.get("numbers", [])]
        values: dict[str, Any] = {}
        if existing["login"] != mobile.ano:
            values["login"] = mobile.ano
        if existing["access"] != new_access:
            values["access"] = new_access
        old_phone = None
        if phone not in numbers:
            old_phone = numbers[0] if numbers else None
        if values or phone not in numbers:
            return AccountAction("update", mobile, existing["id"], values, old_phone)
        return AccountAction("keep", mobile, existing["id"])
    if access == -1:
        return AccountAction("skip", mobile, reason="deleted at Metroport and absent from LMS; not created")
    return AccountAction("create", mobile, values={"login": mobile.ano, "access": access, "phone": phone})


# --------------------------------------------------------------------------------------------------
# Billing records


def vat_multiplier(value: Decimal | None) -> Decimal:
    """Gross/net factor from ``retail_vat``: 1.23 (multiplier, as the PHP plugin assumed), 0.23
    (fraction) and 23 (percentage) all give 1.23; None means no VAT. Polish rates have no 1 % or
    100+ % rate, so the three ranges cannot be confused."""
    if value is None:
        return _ONE
    if value < 0:
        raise ValueError(f"retail_vat {value} is negative")
    if value < _ONE:
        return _ONE + value
    if value < _TWO:
        return value
    if value < _HUNDRED:
        return _ONE + value / _HUNDRED
    raise ValueError(f"retail_vat {value} is neither a multiplier nor a percentage")


def price(record: BillingRecord, net: bool) -> Decimal:
    """Stored price: net for customers whose tagged tariff has the net flag, else gross."""
    amount = record.retail_totalnetto if record.retail_totalnetto is not None else Decimal(0)
    if not net:
        amount = amount * vat_multiplier(record.retail_vat)
    return amount.quantize(_PRICE_STEP, ROUND_HALF_UP)


def quantity(record: BillingRecord) -> int:
    """Seconds, bytes or messages, as ``billingfield`` says."""
    field_name = record.billingfield
    if field_name == "duration":
        value: Any = record.duration
    elif field_name == "datatransfer":
        value = None if record.datatransfer is None else int((record.datatransfer * DATA_UNIT).to_integral_value())
    elif field_name == "msg":
        value = record.msg
    else:
        raise ValueError(f"record {record.id}: unknown billingfield {field_name!r}")
    if value is None:
        raise ValueError(f"record {record.id}: billingfield {field_name} but no {field_name} value")
    if value < 0:
        raise ValueError(f"record {record.id}: negative {field_name} {value}")
    return int(value)


def unix_time(moment: datetime, zone: ZoneInfo) -> int:
    """A naive API date is wall-clock time in *zone* (spec §8.11); aware ones keep their offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp())


class CdrMapper:
    """Turns billing records into ``voip_cdr`` rows (columns in :data:`lmsplugins.lms.voip.CDR_COLUMNS`
    order) with lookups prepared once, because it runs a million times a run.

    Records come in time order, many per second, and the client hands out one date object per distinct
    date text: so the last conversion to a timestamp (a zone lookup each) and the last VAT factor are
    reused while the same object comes again.
    """

    def __init__(
        self,
        traffic_types: Mapping[int, str],
        numbers: Mapping[str, tuple[int, int | None]],
        zone: ZoneInfo,
        created: int | None = None,
    ):
        """*created*: the import's time, stored as ``creationdate`` (lms-payments bills a record by
        ``COALESCE(creationdate, call_start_time)``, so a record imported after its monthly run is
        billed in the next period instead of never)."""
        self.created = created
        self.types = {tid: CDR_TYPES[name] for tid, name in traffic_types.items() if name in CDR_TYPES}
        self.unknown_types = sorted(name for name in traffic_types.values() if name not in CDR_TYPES)
        self.numbers = numbers
        self.zone = zone
        self._moment: datetime | None = None
        self._stamp = 0
        self._vat: Decimal | None = None
        self._factor = _ONE

    def holds(self, ano: str) -> bool:
        """Whether an LMS account holds this own number (``ano`` without the country prefix)."""
        return COUNTRY_PREFIX + ano in self.numbers

    def owner(self, record: BillingRecord) -> tuple[int, int | None] | None:
        """(account id, customer) of the LMS account holding the record's own number (48 + ano)."""
        return self.numbers.get(COUNTRY_PREFIX + record.ano)

    def row(self, record: BillingRecord, net: bool) -> dict[str, Any]:
        """The voip_cdr row as a mapping (see :meth:`values`)."""
        return dict(zip(CDR_COLUMNS, self.values(record, net), strict=True))

    def values(self, record: BillingRecord, net: bool) -> tuple[Any, ...]:
        """The voip_cdr row in :data:`CDR_COLUMNS` order; ValueError for a record LMS cannot store
        (reported, never guessed)."""
        cdr_type = self.types.get(record.traffic_types_id)  # type: ignore[arg-type]
        if cdr_type is None:
            raise ValueError(f"record {record.id}: unknown traffic type id {record.traffic_types_id}")
        caller, callee = record.src, record.dst
        if len(caller) > 20 or len(callee) > 20:
            raise ValueError(f"record {record.id}: number longer than 20 characters ({caller!r} -> {callee!r})")
        fraction = record.category_name or None
        if fraction is not None and len(fraction) > 256:
            fraction = fraction[:256]
        amount = quantity(record)
        moment = record.calldate
        if moment is not self._moment:
            self._stamp = unix_time(moment, self.zone)
            self._moment = moment
        cost = record.retail_totalnetto if record.retail_totalnetto is not None else _ZERO
        if not net:
            vat = record.retail_vat
            if vat is not self._vat:
                self._factor = vat_multiplier(vat)
                self._vat = vat
            cost = cost * self._factor
        numbers = self.numbers
        caller_account = numbers.get(caller)
        callee_account = numbers.get(callee)
        # CDR_COLUMNS order; row() names them, and the mapping tests read them by name.
        return (
            caller,
            callee,
            self._stamp,
            self.created,
            amount,
            amount,
            cost.quantize(_PRICE_STEP, ROUND_HALF_UP),
            STATUS_UNKNOWN,
            DIRECTION_OUTGOING if caller == COUNTRY_PREFIX + record.ano else DIRECTION_INCOMING,
            cdr_type,
            caller_account[0] if caller_account else None,
            callee_account[0] if callee_account else None,
            0,
            0,
            None,
            None,
            str(record.id),
            fraction,
            None,
            None,
            0,
        )
