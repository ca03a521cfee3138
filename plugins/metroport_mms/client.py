"""Client of the Metroport MMS REST API (F-Secure and MetroTV): every call of spec §3, no database.

Why it is shaped like this:

* The session is the ``sess_ci`` cookie of the login (spec §2). It is shared by web and cron through a
  :class:`TokenStore` (the plugin keeps it in ``metroport_settings``; the client never sees the
  database), valid while ``login time + api_token_expiration_time - 30 s`` is ahead, as the PHP plugin
  counts it. Unlike the PHP plugin, a 401 on a call logs in again ONCE and repeats the call: a session
  the server ended early no longer breaks every call until the local expiry.
* The cookie is sent by hand as one ``Cookie`` header (no cookie jar scoping it to the login's path),
  and redirects are refused.
* Bodies as the original sends them (spec §11.2): POST is JSON; PUT and DELETE are form-urlencoded, a
  DELETE carries its form (``orderid``/``accountid``), and the body-less PUTs still send the form
  content type with an empty body.
* Envelopes (spec §11.1): only the user list/search and the account list answer ``[count, [rows]]``;
  every other list is a bare array; ``/Users/users/{id}`` and ``/Iptv/Accounts/{id}`` are objects. A
  reply of another shape, cut short or not JSON is a :class:`MMSProtocolError` naming the call.
* Retries: the shared :func:`lmsplugins.http.make_session` policy, narrowed to GET for timeouts and 5xx
  (a PUT or DELETE the provider may have executed is not repeated blindly); connection errors, where
  the provider never got the request, are retried for every method. A create (POST) that times out is
  never repeated: the caller's read-back decides whether it was done.
* Errors: one :class:`MMSError` per failure, naming the call, with the provider's message; the
  password and the session cookie never appear in a message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests

from lmsplugins.errors import ConfigError, ProviderError
from lmsplugins.http import HttpPolicy, make_session

from .jsonstream import StreamError, iter_json_array

log = logging.getLogger(__name__)

LOGIN_PATH = "/Admins/Auth/login"
COOKIE = "sess_ci"
USER_AGENT = "LMSMetroportPlugin/1.0"
TOKEN_MARGIN = 30
"""Seconds before the assumed expiry at which a stored session is no longer used (spec §2)."""
FORM = "application/x-www-form-urlencoded"
T = TypeVar("T")


class MMSError(ProviderError):
    """A Metroport MMS call failed; ``call`` names it, ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, call: str = "", status: int | None = None, body: str = ""):
        self.call = call
        self.status = status
        self.body = body
        super().__init__(message)


class MMSLoginError(MMSError):
    """The login was refused or gave no ``sess_ci`` cookie."""


class MMSTransportError(MMSError):
    """No usable answer: unreachable, timed out, or 5xx after the retries."""


class MMSProtocolError(MMSError):
    """An answer that is not the shape the call promises (not JSON, cut short, wrong envelope)."""


class MMSNotFound(MMSError):
    """The provider answered 404 for this id or search."""


class TokenStore(Protocol):
    """Where the session cookie lives between runs (``metroport_settings`` row ``token``)."""

    def load(self) -> tuple[str, float] | None:
        """The stored token and its age in seconds, or None."""

    def save(self, token: str) -> None: ...


class MemoryTokenStore:
    """A store for one process (tests, the connection test's fresh login)."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.saved_at = 0.0

    def load(self) -> tuple[str, float] | None:
        return None if self.token is None else (self.token, time.monotonic() - self.saved_at)

    def save(self, token: str) -> None:
        self.token, self.saved_at = token, time.monotonic()


@dataclass(frozen=True)
class MMSUser:
    """One MMS user (customer) of ``GET /Users/users``; identifiers as the provider holds them."""

    id: int
    name: str
    lastname: str
    email: str
    pesel: str
    nip: str
    raw: Mapping[str, Any]


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _int(value: Any, what: str, call: str) -> int:
    if isinstance(value, bool):
        raise MMSProtocolError(f"{call}: {what} is not a number: {value!r}", call)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise MMSProtocolError(f"{call}: {what} is not a number: {_short(repr(value), 60)}", call) from None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_user(row: Any, call: str = "GET /Users/users") -> MMSUser:
    if not isinstance(row, Mapping):
        raise MMSProtocolError(f"{call}: a user is not an object: {_short(repr(row), 80)}", call)
    uid = row.get("userid", row.get("id"))
    return MMSUser(
        id=_int(uid, "userid", call),
        name=_text(row.get("name")),
        lastname=_text(row.get("lastname")),
        email=_text(row.get("email")),
        pesel=_text(row.get("pesel")),
        nip=_text(row.get("nip")),
        raw=row,
    )


class MMSClient:
    """One operator session against one MMS API base URL."""

    def __init__(
        self,
        base_url: str,
        login: str,
        password: str,
        *,
        token_store: TokenStore | None = None,
        token_lifetime: int = 12000,
        policy: HttpPolicy | None = None,
        session: requests.Session | None = None,
    ):
        base_url = (base_url or "").strip().rstrip("/")
        if not base_url:
            raise ConfigError("Metroport MMS: setting metroport.serwer_url is empty")
        if not base_url.lower().startswith(("http://", "https://")):
            raise ConfigError(
                f"Metroport MMS: setting metroport.serwer_url = {base_url!r} needs its scheme, e.g. https://{base_url}"
            )
        if not (login or "").strip() or not password:
            raise ConfigError("Metroport MMS: Brak loginu lub hasła (settings metroport.api_login, metroport.api_pass)")
        self.base_url = base_url
        self._login = login.strip()
        self._password = password
        self.store: TokenStore = token_store or MemoryTokenStore()
        self.token_lifetime = token_lifetime
        policy = policy or HttpPolicy(timeout=(10.0, 30.0), user_agent=USER_AGENT)
        self.session = session or _reads_only(make_session(policy))
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self._token: str | None = None
        self.calls = 0
        self.logins = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], token_store: TokenStore | None = None) -> MMSClient:
        verify = settings.get("metroport.verify_tls", True)
        policy = HttpPolicy(timeout=(10.0, 30.0), user_agent=USER_AGENT, verify_tls=bool(verify))
        return cls(
            settings.get("metroport.serwer_url") or "",
            settings.get("metroport.api_login") or "",
            settings.get("metroport.api_pass") or "",
            token_store=token_store,
            token_lifetime=int(settings.get("metroport.api_token_expiration_time") or 12000),
            policy=policy,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> MMSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- session -----------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in (self._password, self._token):
            if secret and len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def login(self) -> str:
        """A fresh login; returns the ``sess_ci`` value (never stored here: see :meth:`token`)."""
        call = f"POST {LOGIN_PATH}"
        try:
            response = self.session.post(
                self.base_url + LOGIN_PATH,
                json={"login": self._login, "password": self._password},
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            detail = self._scrub(_short(str(exc)))
            raise MMSTransportError(f"{call}: Błąd pobierania tokena Metroport: {detail}", call) from None
        self.calls += 1
        self.logins += 1
        if response.status_code >= 300:
            body = self._scrub(_short(response.text))
            raise MMSLoginError(
                f"{call}: login refused (HTTP {response.status_code}): {body or response.reason}",
                call,
                response.status_code,
                body,
            )
        token = response.cookies.get(COOKIE)
        if not token:
            raise MMSLoginError(f"{call}: the login answer has no {COOKIE} cookie", call, response.status_code)
        return token

    def token(self, fresh: bool = False) -> str:
        """The stored session while it is young enough, else a new login (stored)."""
        if not fresh:
            if self._token:
                return self._token
            stored = self.store.load()
            if stored and stored[0] and stored[1] < self.token_lifetime - TOKEN_MARGIN:
                self._token = stored[0]
                return self._token
        self._token = self.login()
        self.store.save(self._token)
        return self._token

    # -- transport ---------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None, json_body: Any, form: Any):
        kwargs: dict[str, Any] = {"params": params, "allow_redirects": False}
        headers = {"Cookie": f"{COOKIE}={self.token()}"}
        if json_body is not None:
            kwargs["json"] = json_body
        elif form is not None:
            kwargs["data"] = form or ""
            headers["Content-Type"] = FORM
        self.calls += 1
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        not_found: Any = ...,
        empty: Any = ...,
    ) -> Any:
        """One call; returns the decoded JSON. *not_found* / *empty* are returned for a 404 / an empty
        body when given, else those are errors."""
        call = f"{method} {path}"
        for attempt in (1, 2):
            try:
                response = self._send(method, path, params=params, json_body=json_body, form=form)
            except requests.Timeout:
                raise MMSTransportError(f"{call}: no answer in time", call) from None
            except requests.RequestException as exc:
                raise MMSTransportError(f"{call}: {self._scrub(_short(str(exc)))}", call) from None
            if response.status_code == 401 and attempt == 1:
                log.info("%s: session refused (401), logging in again", call)
                self.token(fresh=True)
                continue
            break
        status = response.status_code
        body = self._scrub(response.text)
        if status == 404 and not_found is not ...:
            return not_found
        if status >= 300:
            cls = MMSNotFound if status == 404 else MMSTransportError if status >= 500 else MMSError
            detail = _provider_message(body) or response.reason
            raise cls(f"{call}: HTTP {status}: {detail}", call, status, _short(body))
        if not body.strip():
            if empty is not ...:
                return empty
            raise MMSProtocolError(f"{call}: empty answer", call, status)
        try:
            return json.loads(body)
        except ValueError:
            raise MMSProtocolError(f"{call}: the answer is not JSON (cut short?): {_short(body, 120)}", call) from None

    def create(self, path: str, body: Mapping[str, Any], read_back: Callable[[], T | None]) -> Any:
        """POST a create. After a timeout or a dropped connection the provider may have done it:
        *read_back* looks, and its find is returned; nothing found is an error saying so."""
        call = f"POST {path}"
        try:
            return self.request("POST", path, json_body=dict(body))
        except MMSTransportError as exc:
            if exc.status is not None:
                raise
            found = read_back()
            if found is None:
                raise MMSTransportError(
                    f"{call}: {exc} and the read-back found nothing: it was not created, it is safe to try again",
                    call,
                ) from None
            log.warning("%s: the answer was lost but the read-back found it created", call)
            return found

    # -- envelopes ---------------------------------------------------------------------------------

    @staticmethod
    def _enveloped(data: Any, call: str) -> list[Any]:
        if (
            isinstance(data, list)
            and len(data) == 2
            and isinstance(data[1], list)
            and not isinstance(data[0], bool)
            and isinstance(data[0], int | str)
            and str(data[0]).strip().isdigit()
        ):
            return data[1]
        raise MMSProtocolError(f"{call}: expected [count, [rows]], got {_short(json.dumps(data)[:200], 120)}", call)

    @staticmethod
    def _bare(data: Any, call: str) -> list[Mapping[str, Any]]:
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            data = list(data.values())
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            got = _short(json.dumps(data)[:200], 120)
            raise MMSProtocolError(f"{call}: expected a list of objects, got {got}", call)
        return data

    @staticmethod
    def _object(data: Any, call: str) -> Mapping[str, Any]:
        if not isinstance(data, dict):
            raise MMSProtocolError(f"{call}: expected an object, got {_short(json.dumps(data)[:200], 120)}", call)
        return data

    def _list(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        enveloped: bool = False,
        missing_is_empty: bool = False,
    ) -> list[Mapping[str, Any]]:
        call = f"GET {path}"
        extra: dict[str, Any] = {"not_found": [], "empty": []} if missing_is_empty else {}
        data = self.request("GET", path, params=params, **extra)
        if enveloped and data != []:
            data = self._enveloped(data, call)
        return self._bare(data, call)

    # -- users (§3.1) ------------------------------------------------------------------------------

    def users(self) -> list[MMSUser]:
        return [parse_user(r) for r in self._list("/Users/users", enveloped=True, missing_is_empty=True)]

    def search_users(self, *, pesel: str = "", nip: str = "") -> list[MMSUser]:
        """``?pesel=`` or ``?nip=XXX-XXX-XX-XX``; an empty value is refused (it would list everybody)."""
        if bool(pesel) == bool(nip):
            raise ValueError("search by exactly one non-empty identifier")
        params = {"pesel": pesel} if pesel else {"nip": nip}
        rows = self._list("/Users/users", params, enveloped=True, missing_is_empty=True)
        return [parse_user(r) for r in rows]

    def user(self, userid: int) -> Mapping[str, Any]:
        path = f"/Users/users/{int(userid)}"
        return self._object(self.request("GET", path), f"GET {path}")

    def create_user(self, payload: Mapping[str, Any]) -> int:
        """POST a new user; returns its id. After a lost answer the user is looked up by PESEL/NIP."""

        def read_back() -> int | None:
            key = {"pesel": payload.get("pesel")} if payload.get("pesel") else {"nip": payload.get("nip")}
            if not any(key.values()):
                return None
            hits = self.search_users(**{k: str(v) for k, v in key.items()})
            return hits[0].id if len(hits) == 1 else None

        data = self.create("/Users/users", payload, read_back)
        if isinstance(data, dict):
            data = data.get("userid", data.get("id"))
        return _int(data, "the new user id", "POST /Users/users")

    def update_user(self, userid: int, payload: Mapping[str, Any]) -> Any:
        return self.request("PUT", f"/Users/users/{int(userid)}", form=dict(payload), empty=True)

    # -- F-Secure (§3.2) ---------------------------------------------------------------------------

    def fsecure_packages(self) -> list[Mapping[str, Any]]:
        return self._list("/services/security/ext_services", missing_is_empty=True)

    def fsecure_services(self, userid: int | None = None) -> list[Mapping[str, Any]]:
        params = None if userid is None else {"userid": int(userid)}
        return self._list("/services/security/", params, missing_is_empty=True)

    def fsecure_operations(self) -> list[Mapping[str, Any]]:
        return self._list("/services/security/operations/", missing_is_empty=True)

    def fsecure_add(self, userid: int, secur_serviceid: int, license_size: int) -> Any:
        before = {int(s["id"]) for s in self.fsecure_services(userid)}

        def read_back() -> Mapping[str, Any] | None:
            new = [
                s
                for s in self.fsecure_services(userid)
                if int(s["id"]) not in before and int(s.get("secur_serviceid") or 0) == int(secur_serviceid)
            ]
            return new[0] if new else None

        body = {"userid": int(userid), "secur_serviceid": int(secur_serviceid), "license_size": int(license_size)}
        return self.create("/services/security", body, read_back)

    def fsecure_change(self, sid: int, userid: int, secur_serviceid: int, license_size: int) -> Any:
        form = {"userid": int(userid), "secur_serviceid": int(secur_serviceid), "license_size": int(license_size)}
        return self.request("PUT", f"/services/security/{int(sid)}", form=form, empty=True)

    def fsecure_delete(self, sid: int) -> Any:
        return self.request("DELETE", f"/services/security/{int(sid)}", form={}, empty=True)

    def fsecure_block(self, sid: int, block: bool = True) -> Any:
        action = "block" if block else "unblock"
        return self.request("PUT", f"/services/security/{int(sid)}/{action}", form={}, empty=True)

    # -- MetroTV (§3.3) ----------------------------------------------------------------------------

    def tv_packages(self) -> list[Mapping[str, Any]]:
        return self._list("/Iptv/Packages", missing_is_empty=True)

    def networks(self) -> list[Mapping[str, Any]]:
        return self._list("/Iptv/Networks", {"count": 1}, missing_is_empty=True)

    def stb_models(self) -> list[Mapping[str, Any]]:
        return self._list("/Iptv/StbModels", missing_is_empty=True)

    def stbs(self) -> list[Mapping[str, Any]]:
        return self._list("/Iptv/Stbs", missing_is_empty=True)

    def iter_stbs(self) -> Iterator[Mapping[str, Any]]:
        """``GET /Iptv/Stbs`` streamed: each STB object is decoded as its bytes arrive, so tens of
        thousands of STBs never sit in memory as one document and one list."""
        call = "GET /Iptv/Stbs"
        for attempt in (1, 2):
            try:
                headers = {"Cookie": f"{COOKIE}={self.token()}"}
                self.calls += 1
                response = self.session.get(
                    self.base_url + "/Iptv/Stbs", headers=headers, stream=True, allow_redirects=False
                )
            except requests.RequestException as exc:
                raise MMSTransportError(f"{call}: {self._scrub(_short(str(exc)))}", call) from None
            if response.status_code == 401 and attempt == 1:
                response.close()
                self.token(fresh=True)
                continue
            break
        with response:
            if response.status_code == 404:
                return
            if response.status_code >= 300:
                detail = _provider_message(self._scrub(response.text)) or response.reason
                cls = MMSTransportError if response.status_code >= 500 else MMSError
                raise cls(f"{call}: HTTP {response.status_code}: {detail}", call, response.status_code)
            try:
                yield from iter_json_array(response.iter_content(1 << 16))
            except StreamError as exc:
                raise MMSProtocolError(f"{call}: {exc}", call) from None
            except requests.RequestException as exc:
                raise MMSTransportError(f"{call}: the answer broke off: {_short(str(exc))}", call) from None

    def stb_add(self, model_name: str, serialnumber: str, mac: str) -> Any:
        def read_back() -> Mapping[str, Any] | None:
            found = [s for s in self.stbs() if str(s.get("mac", "")).upper() == mac.upper()]
            return found[0] if found else None

        return self.create(
            "/Iptv/Stbs/", {"ModelName": model_name, "serialnumber": serialnumber, "mac": mac}, read_back
        )

    def stb_delete(self, stbid: int) -> Any:
        return self.request("DELETE", f"/Iptv/Stbs/{int(stbid)}", form={}, empty=True)

    def stb_link(self, accountid: int, orderid: int, networkid: int, mac: str) -> Any:
        form = {"accountid": int(accountid), "orderid": int(orderid), "networkid": int(networkid), "mac": mac}
        return self.request("PUT", "/Iptv/Stbs/linkSTB", form=form, empty=True)

    def stb_unlink(self, mac: str, accountid: int) -> Any:
        return self.request("PUT", "/Iptv/Stbs/unlinkSTB", form={"mac": mac, "accountid": int(accountid)}, empty=True)

    def tv_accounts(self, userid: int | None = None) -> list[Mapping[str, Any]]:
        params = None if userid is None else {"userid": int(userid)}
        return self._list("/Iptv/Accounts", params, enveloped=True, missing_is_empty=True)

    def tv_account(self, accountid: int) -> Mapping[str, Any]:
        path = f"/Iptv/Accounts/{int(accountid)}"
        return self._object(self.request("GET", path), f"GET {path}")

    def tv_account_add(self, payload: Mapping[str, Any]) -> Any:
        userid = int(payload["userid"])
        before = {int(a["id"]) for a in self.tv_accounts(userid)}

        def read_back() -> Mapping[str, Any] | None:
            new = [a for a in self.tv_accounts(userid) if int(a["id"]) not in before]
            return new[0] if new else None

        return self.create("/Iptv/Accounts", payload, read_back)

    def tv_account_update(self, accountid: int, payload: Mapping[str, Any]) -> Any:
        return self.request("PUT", f"/Iptv/Accounts/{int(accountid)}", form=dict(payload), empty=True)

    def tv_account_delete(self, accountid: int) -> Any:
        return self.request(
            "DELETE", f"/Iptv/Accounts/{int(accountid)}", form={"accountid": int(accountid)}, empty=True
        )

    def tv_account_block(self, accountid: int, block: bool = True) -> Any:
        action = "blockAccount" if block else "unblockAccount"
        return self.request(
            "PUT", f"/Iptv/Accounts/{int(accountid)}/{action}", form={"accountid": int(accountid)}, empty=True
        )

    def orders(self, accountid: int) -> list[Mapping[str, Any]]:
        return self._list("/Iptv/Orders", {"accountid": int(accountid)}, missing_is_empty=True)

    def order_add(self, accountid: int, pkg_id: int, pricebrutto: str) -> Any:
        before = {int(o["id"]) for o in self.orders(accountid)}

        def read_back() -> Mapping[str, Any] | None:
            new = [
                o
                for o in self.orders(accountid)
                if int(o["id"]) not in before and int(o.get("pkg_id") or 0) == int(pkg_id)
            ]
            return new[0] if new else None

        body = {"accountid": int(accountid), "pkg_id": int(pkg_id), "pricebrutto": pricebrutto}
        return self.create("/Iptv/Orders", body, read_back)

    def order_delete(self, orderid: int, accountid: int) -> Any:
        return self.request(
            "DELETE",
            f"/Iptv/Orders/{int(orderid)}",
            form={"orderid": int(orderid), "accountid": int(accountid)},
            empty=True,
        )


def _provider_message(body: str) -> str:
    """The provider's own words from an error body (``error``/``message``), else the body itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return _short(body, 200)
    if isinstance(data, dict):
        for key in ("error", "message", "msg", "errors"):
            if data.get(key):
                value = data[key]
                return _short(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), 200)
    return _short(body, 200)


def _reads_only(session: requests.Session) -> requests.Session:
    """Narrow the shared retry policy: timeouts and 5xx are retried for GET only; connection errors
    (the request never reached the provider) for every method."""
    for adapter in session.adapters.values():
        retry = getattr(adapter, "max_retries", None)
        if retry is not None and hasattr(retry, "new"):
            adapter.max_retries = retry.new(allowed_methods=frozenset({"GET"}))
    return session


def describe_ids(values: Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in list(values)[:10])
    return shown + (f" (and {len(values) - 10} more)" if len(values) > 10 else "")
