"""Who may call what: devices by their secret, staff by PIN-for-session, residents by token.

Staff sign in at a desk device with their PIN and get a short-lived session
token. Repeated wrong PINs lock out the desk device and the client address
they came from for a while (not the clerk everywhere), so a PIN cannot be
guessed by trying and a stolen desk secret cannot lock every clerk out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nowserving.domain.config import Device, OfficeConfig, Staff
from nowserving.domain.pairing import REMOVED, REVOKED_CODE
from nowserving.domain.signin import PinGate, SignInRefused

SESSION_SECONDS = 10 * 3600  # one working day
ADMIN_PAGE = "admin-page"  # the "device" of a session opened on the hub's admin page

Role = Literal["kiosk", "display", "desk", "staff", "line_control", "admin"]
# A device by its secret: (the device, whether it was revoked), or None if unknown.
DeviceLookup = Callable[[str], tuple[Device, bool] | None]


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


class Access:
    """Checks bearer tokens: a device secret or a staff session."""

    def __init__(
        self,
        config: OfficeConfig,
        clock: Callable[[], float] = time.monotonic,
        devices: DeviceLookup | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._devices = devices  # the hub's registry of paired devices
        self._sessions: dict[str, Session] = {}
        self._pins = PinGate(config, clock)
        self._lock = threading.Lock()

    def use_office(self, config: OfficeConfig) -> None:
        """The office changed at the hub: check PINs against its staff from now on."""
        self.config = config
        self._pins.config = config  # lockouts in progress stay

    def now(self) -> float:
        return self._clock()

    def identify(self, token: str | None) -> Caller:
        """The caller behind a bearer token; AuthError 401 if it is unknown or expired."""
        if not token:
            raise AuthError("Sign in first: this needs a device secret or a staff session.", 401)
        with self._lock:
            session = self._sessions.get(token)
            if session is not None:
                if session.expires > self._clock():
                    return Caller(session=session)
                del self._sessions[token]
                raise AuthError("Your session has ended; sign in again with your PIN.", 401)
        found = self._devices(token) if self._devices is not None else None
        if found is not None:
            device, revoked = found
            if revoked:
                raise AuthError(REMOVED, 401, code=REVOKED_CODE)
            return Caller(device=device)
        for device in self.config.devices:
            if device.secret and hmac.compare_digest(device.secret.encode(), token.encode()):
                return Caller(device=device)
        raise AuthError("Unknown device secret or session token.", 401)

    def sign_in(self, caller: Caller, staff_id: str, pin: str, address: str) -> Session:
        """Exchange a staff PIN for a session, at a desk device, from client `address`."""
        if caller.device is None or caller.device.role != "desk":
            raise AuthError("Staff sign in at a desk device.", 403)
        sources = (f"device:{caller.device.id}", f"address:{address}")
        return self._open(staff_id, pin, sources, caller.device.id)

    def sign_in_admin(self, staff_id: str, pin: str, address: str) -> Session:
        """A session on the hub's admin page (a browser, no device), for admins only."""
        session = self._open(staff_id, pin, (f"address:{address}",), ADMIN_PAGE)
        if not session.staff.admin:
            self.sign_out(session.token)
            raise AuthError("Only staff with the admin right may use this page.", 403)
        return session

    def _open(self, staff_id: str, pin: str, sources: tuple[str, ...], device: str) -> Session:
        try:
            staff = self._pins.check(staff_id, pin, sources=sources)
        except SignInRefused as refused:
            status = 429 if refused.locked else 401
            raise AuthError(str(refused), status, refused.retry_after) from None
        with self._lock:
            session = Session(
                secrets.token_urlsafe(32), staff, device, self._clock() + SESSION_SECONDS
            )
            self._sessions[session.token] = session
        return session

    def sign_out(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)


def require(caller: Caller, *roles: Role) -> Caller:
    """`caller` if it has one of `roles`, else AuthError 403 naming what is needed."""
    if not caller.roles.intersection(roles):
        needed = " or ".join(roles)
        raise AuthError(f"Not allowed: this needs a {needed} sign-in.", 403)
    return caller
