"""`nowserving init`: a new office's config, from a few answers.

Writes lines, counters, languages, staff with fresh PINs (shown once, stored
hashed), the address phones use, and an office CA and the hub's certificate beside the
config (HTTPS), then says what to run on each PC: the hub with this file, and a pairing
code for each device (no PC but the hub holds the office's secrets).
Every answer has a default, so `--yes` (or no terminal) works.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nowserving.domain.config import UNTRANSLATED, OfficeConfig, parse_config
from nowserving.domain.security import hash_pin
from nowserving.hub import push
from nowserving.system import i18n
from nowserving.system.certs import OfficeTls, write_office_tls
from nowserving.system.files import write_private

# The common pause reasons a new office starts with (keys of the message catalogs).
PAUSE_REASONS = {
    "lunch": "starter.pause_lunch",
    "back-soon": "starter.pause_back_soon",
    "system-down": "starter.pause_system",
    "no-staff": "starter.pause_staff",
}


@dataclass
class Answers:
    name: str = "My Office"
    timezone: str = "UTC"
    languages: list[str] = field(default_factory=lambda: ["en"])
    public_url: str = "https://localhost:8401"
    hub_address: str = ""  # the hub PC's name or address on the LAN; default: public_url's
    lines: list[str] = field(default_factory=lambda: [i18n.text("en", "starter.line")])
    counters: int = 2
    kiosks: int = 1
    displays: int = 1
    desks: int = 2
    staff: list[str] = field(default_factory=lambda: ["Supervisor"])
    country_code: str = ""  # the office's calling code ("1", "34"): numbers typed without "+"


def ask(answers: Answers, prompt: Callable[[str], str]) -> Answers:
    """Fill `answers` from a person at a terminal; Enter keeps the default shown."""

    def text(question: str, default: str) -> str:
        return prompt(f"{question} [{default}]: ").strip() or default

    def number(question: str, default: int) -> int:
        while True:
            value = text(question, str(default))
            if value.isdigit() and 0 <= int(value) <= 50:
                return int(value)
            print("Please give a number from 0 to 50.")

    def listed(question: str, default: list[str]) -> list[str]:
        return [
            part.strip() for part in text(question, ", ".join(default)).split(",") if part.strip()
        ]

    answers.name = text("Office name", answers.name)
    answers.timezone = text("Time zone (e.g. America/Chicago)", answers.timezone)
    answers.languages = listed(
        "Languages, first is the default (en, es, zh, vi, ar)", answers.languages
    )
    answers.public_url = text("Address phones use to reach the hub", answers.public_url)
    answers.hub_address = text(
        "The hub PC's name or address on the office LAN (devices use it)", hub_address(answers)
    )
    answers.lines = listed("Services, comma separated", answers.lines)
    answers.counters = number("Counters", answers.counters)
    answers.kiosks = number("Kiosks", answers.kiosks)
    answers.displays = number("Lobby displays", answers.displays)
    answers.desks = number("Desk PCs", answers.desks)
    answers.staff = listed("Staff names (the first may pause and reroute lines)", answers.staff)
    while True:
        answers.country_code = text(
            "The office's country calling code, for phone numbers (1, 34, 44; - for none)",
            answers.country_code or "-",
        ).lstrip("+")
        answers.country_code = "" if answers.country_code == "-" else answers.country_code
        if COUNTRY_CODE.fullmatch(answers.country_code):
            return answers
        print("Please give 1 to 3 digits, like 1 or 34, or - for none.")


COUNTRY_CODE = re.compile(r"([1-9][0-9]{0,2})?")


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML string


def _texts(languages: list[str], key: str, **values: object) -> str:
    """A catalog phrase in every language, as a TOML inline table; `[todo]` English where
    a language has no catalog entry (residents get the first language until translated)."""
    english = i18n.text("en", key, **values)
    texts = {
        lang: i18n.text(lang, key, **values)
        if key in i18n.catalog(lang)
        else UNTRANSLATED + english
        for lang in languages
    }
    return _table(texts)


def _given(languages: list[str], text: str) -> str:
    """A name typed in the first language: a known default is translated, else marked."""
    first = languages[0]
    if text == i18n.text(first, "starter.line"):
        return _texts(languages, "starter.line")
    return _table({lang: text if lang == first else UNTRANSLATED + text for lang in languages})


def _table(texts: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{lang} = {_toml(text)}" for lang, text in texts.items()) + " }"


def _ident(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24] or "line"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    taken.add(ident)
    return ident


def render(answers: Answers) -> tuple[str, dict[str, str]]:
    """The config text, and the staff PINs (name -> PIN) to show once."""
    languages = answers.languages
    out = [
        "# Written by `nowserving init`. Every key: docs/config.md",
        f"# Texts starting with {UNTRANSLATED.strip()} await translation (check-config lists them)",
        "[office]",
        f"name = {_toml(answers.name)}",
        f"timezone = {_toml(answers.timezone)}",
        f"languages = {json.dumps(answers.languages)}",
        f"public_base_url = {_toml(answers.public_url.rstrip('/'))}",
        "retention_days = 30",
    ]
    taken: set[str] = set()
    line_ids = []
    for n, name in enumerate(answers.lines):
        ident = _ident(name, taken)
        line_ids.append(ident)
        out += [
            "",
            "[[lines]]",
            f"id = {_toml(ident)}",
            f"prefix = {_toml(chr(65 + n % 26))}",
            "typical_minutes = 8",
            "remote_join = true",
            f"name = {_given(languages, name)}",
        ]
    for n in range(1, answers.counters + 1):
        out += [
            "",
            "[[counters]]",
            f'id = "c{n}"',
            f"name = {_texts(languages, 'common.counter_n', n=n)}",
            f"lines = {json.dumps(line_ids)}",
        ]
    for ident, key in PAUSE_REASONS.items():
        out += ["", "[[pause_reasons]]", f"id = {_toml(ident)}", f"text = {_texts(languages, key)}"]
    pins: dict[str, str] = {}
    staff_taken: set[str] = set()
    for n, person in enumerate(answers.staff):
        pin = f"{secrets.randbelow(10**6):06d}"
        pins[person] = pin
        out += [
            "",
            "[[staff]]",
            f"id = {_toml(_ident(person, staff_taken))}",
            f"name = {_toml(person)}",
            f"line_control = {'true' if n == 0 else 'false'}",
            f"admin = {'true' if n == 0 else 'false'}",
            f'pin_hash = "{hash_pin(pin)}"',
        ]
    out += ["", "[printer]", 'kind = "none"  # usb, serial, network, cups or file: docs/deploy.md']
    out += [
        "",
        "[hub]",
        "# HTTPS with the office's own CA (beside this file). hub.key and office-ca.key stay",
        "# on the hub PC; devices need only this file and office-ca.pem.",
        f'tls_cert = "{TLS_FILES.hub_cert}"',
        f'tls_key = "{TLS_FILES.hub_key}"',
        f'ca_file = "{TLS_FILES.ca_cert}"',
        "",
        "[notify]",
        "# Numbers typed without + or 00 are read as national numbers of this country code",
        '# (docs/config.md); "" takes international numbers only.',
        f"country_code = {_toml(answers.country_code)}",
        "",
        "[notify.push]",
        "# Push notifications to residents' phone pages (they need the page on HTTPS). This",
        "# private key signs what the hub sends: it stays in this file; pages get its public half.",
        f'vapid_private_key = "{push.new_private_key()}"',
    ]
    return "\n".join(out) + "\n", pins


TLS_FILES = OfficeTls(
    Path("office-ca.pem"), Path("office-ca.key"), Path("hub.pem"), Path("hub.key")
)


def hub_address(answers: Answers) -> str:
    """The hub PC's address as devices reach it (by default the host phones use)."""
    return answers.hub_address or urlsplit(answers.public_url).hostname or "localhost"


def certificate_names(address: str) -> list[str]:
    """What the hub's certificate is valid for: its LAN address, and this PC itself."""
    return list(dict.fromkeys([address, "localhost", "127.0.0.1"]))


def write_starter_config(path: Path, answers: Answers) -> tuple[OfficeConfig, dict[str, str]]:
    """Write the config (only if it loads); return it and the PINs to show once."""
    text, pins = render(answers)
    config = parse_config(text, str(path))  # never write a file that would not load
    write_office_tls(path.parent, answers.name, certificate_names(hub_address(answers)))
    write_private(path, text)  # every secret and PIN hash: 0600, never readable by others
    return config, pins


def next_steps(config: OfficeConfig, path: Path, answers: Answers) -> list[str]:
    """What to run on each PC of the office: the hub once, then pair each device."""
    hub = f"https://{hub_address(answers)}:{config.hub.port}"
    steps = [f"On the hub PC: nowserving hub --config {path}", "Then, for each device:"]
    for role, count in (
        ("kiosk", answers.kiosks),
        ("display", answers.displays),
        ("desk", answers.desks),
    ):
        for n in range(1, count + 1):
            steps.append(
                f"  {role}-{n}: on the hub PC `nowserving pair --role {role} --id {role}-{n}`, "
                f"then on its PC `nowserving {role} --hub {hub} --pair CODE`"
            )
    steps.append(
        f"{path} holds the staff's PIN hashes: keep it on the hub PC only, private. Copy "
        f"{TLS_FILES.ca_cert} to the same path on every PC (devices check the hub with it); "
        f"{TLS_FILES.hub_key} and {TLS_FILES.ca_key} stay on the hub PC."
    )
    steps.append(
        f"Phones reach {config.office.public_base_url} (port {config.hub.public_port} of the "
        "hub, or your reverse proxy): see docs/deploy.md."
    )
    missing = len(config.missing_texts())
    if missing:
        steps.append(
            f"Translate the {missing} text(s) marked [todo] in {path}; "
            f"`nowserving check-config {path}` lists them."
        )
    return steps
