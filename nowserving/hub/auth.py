"""Who may call what: devices by their secret, staff by PIN-for-session, residents by token.

Staff sign in at a desk device with their PIN and get a session token for one
shift (`[hub] session_hours`). The hub keeps only the token's sha256, in its store:
sessions survive a restart, and a staff member marked `disabled` in the config is
signed out everywhere when the hub starts again. Repeated wrong PINs lock out the
desk device and the client address they came from for a while (not the clerk
everywhere), so a PIN cannot be guessed by trying and a stolen desk secret cannot
lock every clerk out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nowserving.domain.config import Device, OfficeConfig, Staff
from nowserving.domain.pairing import REMOVED, REVOKED_CODE
from nowserving.domain.signin import PinGate, SignInRefused
from nowserving.store.eventstore import EventStore

ADMIN_PAGE = "admin-page"  # the "device" of an admin page session (domain.pairing.RESERVED_IDS)
Role = Literal["kiosk", "display", "desk", "staff", "line_control", "admin"]
# A device by its secret (and whether to read it on the event loop, see
# EventStore.peek): (the device, whether it was revoked), or None if unknown.
DeviceLookup = Callable[[str, bool], tuple[Device, bool] | None]


class AuthError(Exception):
    """Not signed in, or not allowed: the message says which."""

    def __init__(self, message: str, status: int, retry_after: float = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # for a 429: seconds until trying again makes sense
        self.code = code  # for the device: e.g. "device_revoked" (see domain.pairing)


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    staff: Staff
    device: str
    expires: float


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party of one request."""

    device: Device | None = None
    session: Session | None = None

    @property
    def roles(self) -> set[str]:
        if self.session is not None:
            roles = {"staff"}
            if self.session.staff.line_control:
                roles.add("line_control")
            if self.session.staff.admin:
                roles.add("admin")
            return roles
        return {self.device.role} if self.device else set()

    @property
    def staff_id(self) -> str | None:
        return self.session.staff.id if self.session else None

    @property
    def device_id(self) -> str:
        if self.session is not None:
            return self.session.device
        return self.device.id if self.device else "anonymous"


def session_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Access:
    """Checks bearer tokens: a device secret or a staff session (kept in `store`)."""

    def __init__(
        self,
        config: OfficeConfig,
        store: EventStore,
        clock: Callable[[], float] = time.time,
        devices: DeviceLookup | None = None,
    ) -> None:
        self.store = store
        self._clock = clock  # wall clock: sessions outlive the process
        self._devices = devices  # the hub's registry of paired devices
        self._pins = PinGate(config)
        self.use_office(config)

    def use_office(self, config: OfficeConfig) -> None:
        """The office changed at the hub: check PINs against its staff from now on, and end
        the sessions of staff disabled or removed, everywhere, at once."""
        self.config = config
        self._pins.config = config  # lockouts in progress stay
        self._staff = {person.id: person for person in config.staff if not person.disabled}
        gone = [person.id for person in config.staff if person.disabled]
        self.store.end_sessions(before=self._clock(), staff=gone)

    def now(self) -> float:
        return self._clock()

    def _listed(self, token: str) -> Caller | None:
        for device in self.config.devices:
            if device.secret and hmac.compare_digest(device.secret.encode(), token.encode()):
                return Caller(device=device)
        return None

    def device(self, token: str | None, *, quick: bool = False) -> Caller | None:
        """The device whose secret `token` is, if any (AuthError if it was revoked): a paired
        one is looked up in the hub's registry, in the store (`quick`: on the event loop)."""
        if not token:
            return None
        found = self._devices(token, quick) if self._devices is not None else None
        if found is not None:
            device, revoked = found
            if revoked:
                raise AuthError(REMOVED, 401, code=REVOKED_CODE)
            return Caller(device=device)
        return self._listed(token)  # no registry (a hub made in a test), or not in it

    def identify(self, token: str | None) -> Caller:
        """The caller behind a bearer token; AuthError 401 if it is unknown or expired."""
        caller = self._identify(token, quick=False)
        assert caller is not None
        return caller

    def identify_quick(self, token: str | None) -> Caller | None:
        """`identify` with reads only (`EventStore.peek`), for the hub's event loop; None
        when the answer needs a write (a session that ended is deleted): ask `identify`."""
        return self._identify(token, quick=True)

    def _identify(self, token: str | None, *, quick: bool) -> Caller | None:
        if not token:
            raise AuthError("Sign in first: this needs a device secret or a staff session.", 401)
        if (device := self.device(token, quick=quick)) is not None:
            return device
        digest = session_hash(token)
        found = self.store.session(digest, quick=quick)
        if found is not None:
            staff_id, desk, expires = found
            staff = self._staff.get(staff_id)
            if expires > self._clock() and staff is not None:
                return Caller(session=Session(token, staff, desk, expires))
            if quick:
                return None
            self.store.end_sessions(digest=digest)
            raise AuthError("Your session has ended; sign in again with your PIN.", 401)
        raise AuthError("Unknown device secret or session token.", 401)

    def sign_in(self, caller: Caller, staff_id: str, pin: str, address: str) -> Session:
        """Exchange a staff PIN for a session, at a desk device, from client `address`."""
        if caller.device is None or caller.device.role != "desk":
            raise AuthError("Staff sign in at a desk device.", 403)
        sources = (f"device:{caller.device.id}", f"address:{address}")
        try:
            staff = self._pins.check(staff_id, pin, sources=sources)
        except SignInRefused as refused:
            status = 429 if refused.locked else 401
            raise AuthError(str(refused), status, refused.retry_after) from None
        return self._open(staff, caller.device.id)

    def sign_in_admin(self, staff_id: str, pin: str, address: str) -> Session:
        """A session on the hub's admin page (a browser, no device), for admins only."""
        try:
            staff = self._pins.check(
                staff_id, pin, sources=(f"address:{address}",), admin_only=True
            )
        except SignInRefused as refused:
            status = 429 if refused.locked else 401
            raise AuthError(str(refused), status, refused.retry_after) from None
        return self._open(staff, ADMIN_PAGE)

    def _open(self, staff: Staff, device: str) -> Session:
        expires = self._clock() + self.config.hub.session_hours * 3600
        session = Session(secrets.token_urlsafe(32), staff, device, expires)
        self.store.add_session(session_hash(session.token), staff.id, device, expires)
        return session

    def sign_out(self, token: str) -> None:
        self.store.end_sessions(digest=session_hash(token))


def require(caller: Caller, *roles: Role) -> Caller:
    """`caller` if it has one of `roles`, else AuthError 403 naming what is needed."""
    if not caller.roles.intersection(roles):
        needed = " or ".join(roles)
        raise AuthError(f"Not allowed: this needs a {needed} sign-in.", 403)
    return caller
