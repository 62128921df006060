"""Pairing, the office as devices receive it, and the admin's changes to the office.

These belong on the devices' and staff's side of the hub, never the residents'. A PC
becomes a device with a one-time code (`POST /api/pair`); it then holds its own secret
only, and follows the public part of the office (`GET /api/office`) by its version.
Every admin change is an `office.changed` event in the log, with who made it.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from nowserving.domain.config import IDENT, Ident, office_document, public_office
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.pairing import PairingRefused
from nowserving.domain.security import WeakPin, check_new_pin
from nowserving.domain.signin import SignInRefused
from nowserving.hub import office_admin
from nowserving.hub.api import Device, HubDep, needs
from nowserving.hub.auth import AuthError, Caller
from nowserving.hub.context import Hub
from nowserving.hub.deferred import Router
from nowserving.hub.problems import ERRORS
from nowserving.sync.protocol import OfficeCopy, PairedDevice, PairRequest, PairResponse

router = Router(prefix="/api", responses=ERRORS)
Admin = Annotated[Caller, Depends(needs("admin"))]
StaffSession = Annotated[Caller, Depends(needs("staff"))]
KioskDevice = Annotated[Caller, Depends(needs("kiosk"))]
DeviceParam = Annotated[str, Path(pattern=IDENT, description="A device's id")]
LineParam = Annotated[str, Path(pattern=IDENT, description="A line's id")]


class PairingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["kiosk", "display", "desk"]
    device: Ident | None = None  # default: the next free `<role>-<n>`


class PairingCode(BaseModel):
    code: str
    device: str
    role: str
    expires_at: int  # ms since the epoch


class LineNames(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: dict[str, Annotated[str, StringConstraints(max_length=200)]]


class PinChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: Annotated[str, StringConstraints(pattern=r"^\d{4,12}$")]  # the current PIN
    new_pin: Annotated[str, StringConstraints(pattern=r"^\d{6,12}$")]  # 6 digits or more


class StaffPin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: Annotated[str, StringConstraints(pattern=r"^\d{4,12}$")]


class StaffFound(BaseModel):
    staff: str
    name: str


class DeviceEntry(BaseModel):
    id: str
    role: str
    paired_at: int
    revoked_at: int | None


def office_for(hub: Hub, role: str) -> OfficeCopy:
    """The office as a device of `role` may hold it."""
    office = office_document(public_office(hub.config, role))
    return OfficeCopy(version=hub.registry.version(), office=office)


@router.post("/pair", operation_id="pair_device", tags=["devices"])
def pair_device(body: PairRequest, hub: HubDep, request: Request) -> PairResponse:
    """A one-time code from `nowserving pair` for this PC's own credential and the office."""
    hub.check_pairing_rate(request)
    try:
        record, secret = hub.registry.redeem(body.code)
    except PairingRefused as refused:
        hub.check_pairing_rate(request, failed=True)
        raise Rejected(str(refused)) from None
    hub.service.record_office_change(f"paired {record.id} ({record.role})", staff=record.id)
    return PairResponse(
        device=PairedDevice(
            id=record.id,
            role=record.role,  # type: ignore[arg-type]
            secret=secret,
            lines=record.lines,
            counters=record.counters,
        ),
        office=office_for(hub, record.role),
        ca=office_ca(hub),
    )


@router.get(
    "/pair/ca",
    operation_id="office_ca",
    tags=["devices"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def get_office_ca(hub: HubDep) -> PlainTextResponse:
    """The office CA's certificate (public): a PC about to pair fetches it over a connection
    it cannot verify yet, and uses it only if its SHA-256 fingerprint is the one shown
    with the pairing code."""
    pem = office_ca(hub)
    if pem is None:
        raise NotFound("This hub has no office CA: its certificate is checked by the PC's own.")
    return PlainTextResponse(pem, media_type="application/x-pem-file")


def office_ca(hub: Hub) -> str | None:
    """The office CA's certificate (PEM) if the hub speaks HTTPS with one."""
    ca_file = hub.config.hub.ca_file
    if not (hub.config.hub.tls and ca_file):
        return None
    try:
        return FilePath(ca_file).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None  # said at start (the hub checks its files); devices then use their own


@router.get("/office", operation_id="get_office", tags=["devices"])
def get_office(
    hub: HubDep,
    caller: Device,
    known: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> OfficeCopy | None:
    """The office as this device may hold it (no secrets; staff PIN hashes for desks only);
    null if its version is still `known`."""
    if known is not None and known == hub.registry.version():
        return None
    role = caller.device.role if caller.device else "desk"  # a staff session is at a desk
    return office_for(hub, role)


@router.post("/staff/pin", operation_id="change_own_pin", tags=["staff"], status_code=204)
def change_own_pin(body: PinChange, hub: HubDep, caller: StaffSession, request: Request) -> None:
    """A staff member changes their own PIN (the current one first, with the lockout of
    sign-in); desks take up the new hash within seconds."""
    staff = caller.staff_id or ""
    try:
        check_new_pin(body.new_pin)
    except WeakPin as weak:
        raise office_admin.InvalidOffice(str(weak)) from None
    try:
        hub.service.gate.check(staff, body.pin, sources=(f"address:{hub.client(request)}",))
    except SignInRefused as refused:
        raise AuthError(str(refused), 429 if refused.locked else 401, refused.retry_after) from None
    office_admin.reset_pin(hub, staff, by=staff, pin=body.new_pin)


@router.post("/staff/check-pin", operation_id="check_staff_pin", tags=["kiosk"])
def check_staff_pin(body: StaffPin, hub: HubDep, caller: KioskDevice) -> StaffFound:
    """Whose PIN this is, for a kiosk's staff menu (the kiosk holds no PIN hash); five
    wrong ones lock that kiosk's pad for five minutes."""
    try:
        staff = hub.service.gate.check_any(body.pin, sources=(f"pad:{caller.device_id}",))
    except SignInRefused as refused:
        raise AuthError(str(refused), 429 if refused.locked else 401, refused.retry_after) from None
    return StaffFound(staff=staff.id, name=staff.name)


# -- admin -------------------------------------------------------------------------------


@router.get("/admin/devices", operation_id="list_devices", tags=["admin"])
def list_devices(hub: HubDep, caller: Admin) -> list[DeviceEntry]:
    return [
        DeviceEntry(id=r.id, role=r.role, paired_at=r.paired_at, revoked_at=r.revoked_at)
        for r in hub.registry.devices()
    ]


@router.post("/admin/pairing", operation_id="new_pairing", tags=["admin"], status_code=201)
def new_pairing(body: PairingRequest, hub: HubDep, caller: Admin) -> PairingCode:
    """A one-time code (valid 10 minutes) that pairs a PC as a device."""
    pairing = office_admin.make_pairing(hub, body.role, body.device, by=_who(caller))
    return PairingCode(
        code=pairing.code, device=pairing.device, role=pairing.role, expires_at=pairing.expires_at
    )


@router.post(
    "/admin/devices/{device}/revoke", operation_id="revoke_device", tags=["admin"], status_code=204
)
def revoke_device(device: DeviceParam, hub: HubDep, caller: Admin) -> None:
    """The device's next request is refused; pair it again to bring it back."""
    office_admin.revoke(hub, device, by=_who(caller))


@router.put("/admin/lines/{line}/name", operation_id="rename_line", tags=["admin"])
def rename_line(line: LineParam, body: LineNames, hub: HubDep, caller: Admin) -> OfficeCopy:
    """A line's name per language; every screen shows it within seconds."""
    office_admin.rename_line(hub, line, body.name, by=_who(caller))
    return office_for(hub, "desk")


def _who(caller: Caller) -> str:
    return caller.staff_id or caller.device_id
