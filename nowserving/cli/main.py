"""The `nowserving` command: every part of the system starts from here."""

from __future__ import annotations

import argparse
import getpass
import importlib
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from nowserving import __version__
from nowserving.domain.errors import ConfigError, NowservingError

if TYPE_CHECKING:
    from nowserving.store.eventstore import EventStore
    from nowserving.store.registry import Registry

# Each app lives in its own package and is imported only when started, so the
# core (and the hub on a server) never loads Qt.
APPS = {
    "hub": "nowserving.hub.run:main",
    "kiosk": "kiosk.app:main",
    "display": "display.app:main",
    "desk": "desk.app:main",
    "demo": "nowserving.cli.demo:main",
    "city": "nowserving.city.run:main",
}
# Servers whose restart should answer at once: they build only what is used (system.startup).
LEAN_START = {"hub"}
# What the `gui` extra installs: a server without it runs the hub, not the apps.
GUI_MODULES = {"PySide6", "shiboken6", "escpos", "PIL"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nowserving",
        description="Line management for public offices: kiosk, lobby display, front desk, hub.",
    )
    parser.add_argument("--version", action="version", version=f"nowserving {__version__}")
    parser.add_argument(
        "--data", metavar="DIR", help="folder for the store (default: the user data folder)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="start a hub, kiosk, display and desk on this PC")
    demo.add_argument("--config", metavar="FILE", help="office config (default: the sample)")
    demo.add_argument("--port", type=int, default=8400, help="hub port (default 8400)")
    demo.add_argument(
        "--only",
        nargs="*",
        choices=["hub", "kiosk", "display", "desk"],
        help="start only these parts",
    )

    hub = commands.add_parser("hub", help="run the office hub (HTTP API and phone pages)")
    hub.add_argument(
        "--config",
        metavar="FILE",
        help="office config to import (when new to this hub); default: the office it holds",
    )
    hub.add_argument("--host", help="address to listen on (default from the config)")
    hub.add_argument("--port", type=int, help="port to listen on (default from the config)")
    hub.add_argument("--public-host", help="address of the residents' listener (default: config)")
    hub.add_argument("--public-port", type=int, help="port of the residents' listener")
    hub.add_argument(
        "--public-url",
        metavar="URL",
        help="address phones use to reach the hub (default from the config)",
    )

    city = commands.add_parser("city", help="the city's page, API and dashboard over PostgreSQL")
    city.add_argument(
        "--database", required=True, type=_database_url, metavar="URL", help="postgresql://…"
    )
    city.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    city.add_argument("--port", type=int, default=8500, help="port to listen on (default 8500)")
    city.add_argument("--name", default="City", help="the city's name, atop its pages")
    city.add_argument(
        "--admin-token-file",
        metavar="FILE",
        help="file holding the city admin token (24+ characters) for the staff dashboard",
    )

    for name, what in (
        ("kiosk", "the ticket kiosk"),
        ("display", "the lobby display"),
        ("desk", "the front-desk console"),
    ):
        app = commands.add_parser(name, help=f"run {what}")
        app.add_argument(
            "--config", metavar="FILE", help="office config (not needed on a paired PC)"
        )
        app.add_argument("--hub", metavar="URL", help="the hub to sync with (default: local store)")
        app.add_argument(
            "--pair",
            metavar="CODE",
            help="pair this PC with the hub, with a code from `nowserving pair` (once)",
        )
        app.add_argument(
            "--ca-sha256",
            metavar="FINGERPRINT",
            help="with --pair over https: the office CA's fingerprint shown with the code",
        )
        app.add_argument(
            "--ca",
            metavar="FILE",
            help="with --pair over https: the office CA's certificate (office-ca.pem)",
        )
        app.add_argument("--device", metavar="ID", help="this device's id from the config")
        app.add_argument("--windowed", action="store_true", help="a window, not full screen")
        app.add_argument(
            "--exit-after",
            type=float,
            metavar="SECONDS",
            help="quit after this long (a smoke test of an installation)",
        )
        if name == "desk":
            app.add_argument("--counter", metavar="ID", help="open at this counter")

    init = commands.add_parser("init", help="set up a new office: config, secrets, PINs, steps")
    init.add_argument("path", nargs="?", default="office.toml", help="where (default office.toml)")
    init.add_argument("--name", default="My Office", help="the office's name")
    init.add_argument("--timezone", default="UTC", help="e.g. America/Chicago")
    init.add_argument("--languages", default="en", help="comma separated, first is the default")
    init.add_argument(
        "--public-url",
        default="https://localhost:8401",
        help="the hub's address as phones reach it (goes into the QR codes)",
    )
    init.add_argument(
        "--hub-address",
        default="",
        help="the hub PC's name or address on the LAN (default: the public URL's host)",
    )
    init.add_argument(
        "--certificates",
        action="store_true",
        help="only make a new hub certificate beside an existing config (same CA)",
    )
    init.add_argument("--lines", default="General enquiries", help="service names, comma separated")
    init.add_argument("--counters", type=int, default=2)
    init.add_argument("--kiosks", type=int, default=1)
    init.add_argument("--displays", type=int, default=1)
    init.add_argument("--desks", type=int, default=2)
    init.add_argument("--staff", default="Supervisor", help="names, comma separated")
    init.add_argument(
        "--country-code",
        default="",
        help="the office's calling code (1, 34): numbers typed without + are national ones",
    )
    init.add_argument("--yes", action="store_true", help="take the options as given, ask nothing")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    check = commands.add_parser("check-config", help="validate an office config file")
    check.add_argument("path", metavar="FILE")

    commands.add_parser("hash-pin", help="hash a staff PIN for the config (reads the PIN)")

    pairing = commands.add_parser(
        "pair", help="on the hub PC: a one-time code (10 min) that pairs a new device"
    )
    pairing.add_argument("--role", required=True, choices=["kiosk", "display", "desk"])
    pairing.add_argument(
        "--id", type=_device_id, metavar="ID", help="the device's id (default: <role>-<n>)"
    )
    pairing.add_argument("--json", action="store_true", help="print {code, expires_at} as JSON")

    revoke = commands.add_parser("revoke", help="on the hub PC: refuse a device from now on")
    revoke.add_argument("device", metavar="ID")

    commands.add_parser("devices", help="on the hub PC: the paired devices")

    export = commands.add_parser(
        "export", help="on the hub PC: write the office it holds into a config file"
    )
    export.add_argument("path", metavar="FILE", help="kept comments and layout if it exists")

    report = commands.add_parser("report", help="CSV files, charts and a PDF summary")
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="FILE", help="office config file (this office)")
    source.add_argument(
        "--city", type=_database_url, metavar="URL", help="every office, from the city database"
    )
    report.add_argument("--from", dest="start", required=True, metavar="DATE")
    report.add_argument("--to", dest="end", required=True, metavar="DATE")
    report.add_argument("--line", metavar="ID", help="only this line")
    report.add_argument("--out", required=True, metavar="DIR")

    simulate = commands.add_parser("simulate", help="play realistic office days into the store")
    _config_arg(simulate)
    simulate.add_argument("--days", type=int, default=1)
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--start", metavar="DATE", help="first day (default: days ago)")

    purge = commands.add_parser("purge", help="strip personal data older than retention_days")
    _config_arg(purge)

    status = commands.add_parser(
        "status", help="each device: last seen, outbox, lag (asks the hub)"
    )
    status.add_argument(
        "--config", metavar="FILE", help="office config with [[devices]] (else: this PC's pairing)"
    )
    status.add_argument("--hub", metavar="URL", help="the hub (default: this PC's, per config)")
    status.add_argument("--device", metavar="ID", help="device whose secret to use")
    for command in commands.choices.values():  # `nowserving hub --config F --data D` too
        command.add_argument(
            "--data", metavar="DIR", default=argparse.SUPPRESS, help="folder for the store"
        )
    return parser


def _device_id(text: str) -> str:
    from nowserving.domain.pairing import check_device_id

    try:
        return check_device_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _database_url(text: str) -> str:
    if not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError("a PostgreSQL address: postgresql://user:pass@host/db")
    return text


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", required=True, help="office config file")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS.get(args.command, _start_app)(args)
    except NowservingError as exc:
        print(f"nowserving: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _start_app(args: argparse.Namespace) -> int:
    module_name, _, function = APPS[args.command].partition(":")
    if args.command in LEAN_START:
        from nowserving.system import startup

        startup.begin()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing in GUI_MODULES:
            print(
                f"nowserving: the {args.command} needs the gui extra, which is not installed "
                f"here (no module {missing}): pip install 'nowserving[gui]'",
                file=sys.stderr,
            )
            return 2
        raise
    start: Callable[[argparse.Namespace], int] = getattr(module, function)
    return start(args)


def _check_config(args: argparse.Namespace) -> int:
    from nowserving.domain.config import load_config

    config = load_config(args.path)
    print(
        f"{args.path}: OK — {config.office.name}: {len(config.lines)} lines, "
        f"{len(config.counters)} counters, {len(config.devices)} devices, "
        f"{len(config.staff)} staff, languages {', '.join(config.office.languages)}."
    )
    if "sms" in config.notify.channels and not config.notify.country_code:
        print(
            f"{args.path}: hint: [notify] country_code is not set, so residents must type "
            'phone numbers with "+" or "00" and their country code; set it (e.g. "1") to '
            "take the office's national numbers as typed.",
            file=sys.stderr,
        )
    missing = config.missing_texts()
    if not missing:
        return 0
    print(
        f"{args.path}: {len(missing)} text(s) residents would read in another language:",
        file=sys.stderr,
    )
    for problem in missing:
        print(f"{args.path}: {problem}", file=sys.stderr)
    return 2  # usable, but not yet in every language


def _init(args: argparse.Namespace) -> int:
    from nowserving.cli.starter import Answers, ask, next_steps, write_starter_config

    path = Path(args.path)
    if args.certificates:
        return _new_certificate(path, args.hub_address)
    if path.exists() and not args.force:
        print(f"nowserving: {path} exists; use --force to overwrite it.", file=sys.stderr)
        return 1

    def split(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    answers = Answers(
        args.name,
        args.timezone,
        split(args.languages),
        args.public_url,
        args.hub_address,
        split(args.lines),
        args.counters,
        args.kiosks,
        args.displays,
        args.desks,
        split(args.staff),
        args.country_code.lstrip("+"),
    )
    if not args.yes and sys.stdin.isatty():
        answers = ask(answers, input)
    config, pins = write_starter_config(path, answers)
    print(f"Wrote {path}. Staff PINs (shown once; the file keeps only hashes):")
    for name, pin in pins.items():
        print(f"  {name}: {pin}")
    print(*next_steps(config, path, answers), sep="\n")
    return 0


def _new_certificate(path: Path, address: str) -> int:
    from nowserving.cli.starter import certificate_names
    from nowserving.domain.config import load_config
    from nowserving.system.certs import write_office_tls

    config = load_config(path)
    if not address:
        print("nowserving: give the hub's LAN address with --hub-address.", file=sys.stderr)
        return 1
    tls = write_office_tls(path.parent, config.office.name, certificate_names(address))
    print(f"Wrote {tls.hub_cert} and {tls.hub_key} (signed by {tls.ca_cert}); restart the hub.")
    return 0


def _hash_pin(args: argparse.Namespace) -> int:
    from nowserving.domain.security import hash_pin

    pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    try:
        print(hash_pin(pin))
    except ValueError as exc:
        print(f"nowserving: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    from nowserving.domain.config import load_config
    from nowserving.sync.client import HubClient
    from nowserving.sync.tls import local_hub_url, verify_for

    config = load_config(args.config) if args.config else None
    url = args.hub or (local_hub_url(config) if config else "http://localhost:8400")
    verify = verify_for(config) if config else True
    rows = HubClient(url, _a_device_secret(args), verify=verify).device_status()
    print(
        f"{'device':<14}{'role':<9}{'last seen':>12}{'outbox':>8}{'lag':>8}"
        f"{'memory':>10}{'up':>9}  version"
    )
    for row in rows:
        seen, memory, up, version = row.shown()
        print(
            f"{row.device:<14}{row.role:<9}{seen:>12}{row.outbox:>8}{row.lag:>8}"
            f"{memory:>10}{up:>9}  {version}"
        )
    return 0


def _a_device_secret(args: argparse.Namespace) -> str:
    """A secret to ask the hub with: a device of `--config`, else this PC's pairing."""
    from nowserving.domain.config import load_config
    from nowserving.sync.pairing import load_credential
    from nowserving.system.paths import data_dir

    if args.config:
        devices = [d for d in load_config(args.config).devices if d.secret]
        device = next((d for d in devices if d.id == args.device), None)
        device = device or (devices[0] if devices else None)
        if device is not None:
            return device.secret
    for role in ("desk", "display", "kiosk"):
        try:
            return load_credential(data_dir(args.data), role).device.secret
        except ConfigError:
            continue
    raise ConfigError(
        "No device to ask the hub with: run this on a paired PC (or give --config FILE "
        "with [[devices]] secrets)."
    )


def _registry(args: argparse.Namespace) -> Registry:
    """The hub's registry in its store (run on the hub PC, with the hub's --data)."""
    from nowserving.store.registry import Registry
    from nowserving.system.paths import data_dir

    path = data_dir(args.data) / "office.sqlite"
    if not path.exists():
        raise ConfigError(
            f"No hub store at {path}: run this on the hub PC, with the hub's --data folder."
        )
    return Registry(_store(args))


def _audit(registry: Registry, what: str) -> None:
    """An `office.changed` event in the hub's log: who (this OS user) did what."""
    from nowserving.service.local import LocalService

    office = registry.office()
    if office is not None:
        service = LocalService(registry.store, office[1], "cli")
        service.record_office_change(what, staff=f"cli:{getpass.getuser()}")


def _pair(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    registry = _registry(args)
    pairing = registry.new_pairing(args.role, args.id)
    _audit(registry, f"made a pairing code for {pairing.device} ({pairing.role})")
    expires = datetime.fromtimestamp(pairing.expires_at / 1000, UTC)
    ca = _office_ca_fingerprint(registry)
    if args.json:
        print(
            json.dumps({"code": pairing.code, "expires_at": expires.isoformat(), "ca_sha256": ca})
        )
        return 0
    import io

    import qrcode

    qr = qrcode.QRCode(border=1)
    qr.add_data(pairing.code)
    picture = io.StringIO()
    qr.print_ascii(out=picture)
    print(picture.getvalue(), end="")
    print(
        f"Pairing code for {pairing.device} ({pairing.role}): {pairing.code}\n"
        f"Valid once, until {expires.astimezone():%H:%M}. On the new PC:\n"
        + (
            f"  nowserving {pairing.role} --hub https://HUB:PORT --pair {pairing.code} "
            f"--ca-sha256 {ca}\n(the office CA's fingerprint: the new PC checks the hub with it)"
            if ca
            else f"  nowserving {pairing.role} --hub http://HUB:PORT --pair {pairing.code}"
        )
    )
    return 0


def _office_ca_fingerprint(registry: Registry) -> str | None:
    """The SHA-256 fingerprint of the CA the hub's office names, if it speaks HTTPS."""
    from nowserving.system.certs import fingerprint

    office = registry.office()
    hub = office[1].hub if office else None
    if hub is None or not hub.tls or not hub.ca_file:
        return None
    try:
        return fingerprint(Path(hub.ca_file).read_bytes())
    except (OSError, ValueError):
        return None


def _revoke(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if not registry.revoke(args.device):
        print(f"nowserving: no paired device {args.device!r} to revoke.", file=sys.stderr)
        return 1
    _audit(registry, f"revoked {args.device}")
    print(f"{args.device} is revoked: its next request is refused. Pair it again to undo.")
    return 0


def _devices(args: argparse.Namespace) -> int:
    from datetime import datetime

    def when(ms: int | None) -> str:
        return "" if ms is None else f"{datetime.fromtimestamp(ms / 1000):%Y-%m-%d %H:%M}"

    print(f"{'device':<20}{'role':<9}{'paired':<18}revoked")
    for record in _registry(args).devices():
        print(
            f"{record.id:<20}{record.role:<9}{when(record.paired_at):<18}{when(record.revoked_at)}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from nowserving.cli.office_file import export_text
    from nowserving.system.files import write_private

    office = _registry(args).office()
    if office is None:
        raise ConfigError("This hub holds no office yet: start it once with --config FILE.")
    path = Path(args.path)
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    write_private(path, export_text(office[1], existing))  # it holds the staff's PIN hashes
    print(f"Wrote the hub's office (version {office[0]}) to {path}.")
    return 0


def _store(args: argparse.Namespace) -> EventStore:
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import data_dir

    return EventStore(data_dir(args.data) / "office.sqlite")


def _report(args: argparse.Namespace) -> int:
    from nowserving.domain.config import OfficeConfig, load_config
    from nowserving.store.reports import Labels, build, write_report

    start, end = _date(args.start), _date(args.end)
    labels: OfficeConfig | Labels
    if args.city:
        from nowserving.store import city_reports

        tables, labels = city_reports.build(args.city, start, end, args.line)
    else:
        labels = load_config(args.config)
        tables = build(_store(args), labels, start, end, args.line)
    if not tables:
        print(f"No tickets between {start} and {end}.")
        return 0
    for path in write_report(tables, labels, Path(args.out), f"{start} to {end}"):
        print(path)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from nowserving.cli.simulate import simulate_office
    from nowserving.domain.config import load_config

    config = load_config(args.config)
    store = _store(args)
    first = _date(args.start) if args.start else date.today() - timedelta(days=args.days)
    for n in range(args.days):
        day = first + timedelta(days=n)
        result = simulate_office(store, config, day, args.seed + n)
        print(f"{day}: {len(result.estimates)} tickets; {result.accuracy().summary()}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from datetime import date

    from nowserving.domain.config import load_config
    from nowserving.store.retention import purge

    config = load_config(args.config)
    count = purge(_store(args), config, date.today())
    print(
        f"Personal data removed from {count} events older than {config.office.retention_days} days."
    )
    return 0


def _date(text: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date like 2026-11-24") from None


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "report": _report,
    "simulate": _simulate,
    "purge": _purge,
    "status": _status,
    "check-config": _check_config,
    "init": _init,
    "hash-pin": _hash_pin,
    "pair": _pair,
    "revoke": _revoke,
    "devices": _devices,
    "export": _export,
}
