from __future__ import annotations

from pathlib import Path

import pytest

from nowserving.domain.config import OfficeConfig, load_config, parse_config
from nowserving.domain.errors import ConfigError
from nowserving.system.paths import sample_config


def test_the_sample_office_meets_the_brief(config: OfficeConfig) -> None:
    assert len(config.lines) >= 4
    assert len(config.counters) >= 5
    assert config.office.languages == ["en", "es", "zh", "vi", "ar"]
    for line in config.lines:
        assert set(line.name) == set(config.office.languages), line.id
        assert set(line.description) == set(config.office.languages), line.id


def _sample_with(old: str, new: str) -> str:
    text = sample_config().read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'timezone = "America/Los_Angeles"',
            'timezone = "Mars/Olympus"',
            "office.timezone: unknown time zone 'Mars/Olympus'",
        ),
        ('prefix = "A"', 'prefix = "AA"', "lines[0].prefix: String should match pattern"),
        ('prefix = "B"', 'prefix = "A"', "lines[1].prefix: 'A' is used twice"),
        ('lines = ["permits"]', 'lines = ["nope"]', "counters[0].lines: there is no line 'nope'"),
        (
            "typical_minutes = 12",
            "typical_minutes = -3",
            "lines[0].typical_minutes: Input should be greater than 0",
        ),
        (
            "idle_seconds = 45",
            "idle_secs = 45",
            "kiosk.idle_secs: unknown key (check the spelling)",
        ),
        ('kind = "none"', 'kind = "network"', "printer: kind = 'network' needs host"),
        (
            'role = "kiosk"',
            'role = "toaster"',
            "devices[0].role: Input should be 'kiosk', 'display' or 'desk'",
        ),
        (
            'secret = "Fpac3jYCoCpQWaBXGvvEjjQip_SLUYVK"',
            'secret = "short"',
            "devices[0].secret: String should have at least 16 characters",
        ),
    ],
)
def test_a_bad_config_names_the_file_the_key_and_the_problem(
    old: str, new: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_sample_with(old, new), "office.toml")
    assert f"office.toml: {expected}" in str(raised.value)


def test_a_missing_section_is_named() -> None:
    with pytest.raises(ConfigError, match=r"office.toml: office: required key is missing"):
        parse_config("[[lines]]\nid='a'\nprefix='A'\nname={en='A'}\n", "office.toml")


def test_broken_toml_gives_the_line() -> None:
    with pytest.raises(ConfigError, match=r"office.toml: not valid TOML: .*line 2"):
        parse_config('[office]\nname = "unterminated\n', "office.toml")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(binary)


def test_text_falls_back_to_the_default_language(config: OfficeConfig) -> None:
    assert config.text({"en": "Hello", "es": "Hola"}, "es") == "Hola"
    assert config.text({"en": "Hello"}, "vi") == "Hello"
    assert config.text({"en": "Hello", "es": "[todo] Hello"}, "es") == "Hello"  # never shown


def test_every_resident_text_is_in_every_language_or_named(config: OfficeConfig) -> None:
    assert config.missing_texts() == []  # the sample is complete
    assert config.counter_name("c6", "zh") == "收款窗口"
    text = sample_config().read_text(encoding="utf-8")
    cashier = (
        'name = { en = "Cashier", es = "Caja", zh = "收款窗口", vi = "Quầy thu ngân", '
        'ar = "الصندوق" }'
    )
    lunch = 'vi = "Nghỉ trưa, sẽ quay lại sớm", '
    # A counter's name as one plain string, as configs used to have it; a [todo] copy.
    older = parse_config(
        text.replace(cashier, 'name = "Cashier"').replace(lunch, 'vi = "[todo] Lunch", ')
    )
    assert older.counter_name("c6", "zh") == "Cashier"
    assert older.missing_texts() == [
        "counters[5].name: no text in 'es'",
        "counters[5].name: no text in 'zh'",
        "counters[5].name: no text in 'vi'",
        "counters[5].name: no text in 'ar'",
        "pause_reasons[0].text: not translated into 'vi' (still marked [todo])",
    ]
    with pytest.raises(ConfigError, match=r"pause_reasons\[0\].text: no text in 'en'"):
        parse_config(text.replace('text = { en = "Lunch break, back soon", ', "text = { "))


def test_a_device_receives_none_of_the_hubs_secrets(config: OfficeConfig) -> None:
    from nowserving.domain.config import public_office

    hub = config.hub.model_copy(update={"tls_cert": "/etc/hub.pem", "tls_key": "/etc/hub.key"})
    secret = "GATEWAY-KEY-0123456789"
    notify = config.notify.model_validate(
        {
            "near": 4,
            "sms": {
                "url": "https://sms.example/send",
                "auth_value": secret,
                "inbound_secret": secret,
            },
            "email": {"host": "smtp.example", "username": "office", "password": secret},
            "push": {"vapid_private_key": "V" * 43},
        }
    )
    full = config.model_copy(update={"hub": hub, "notify": notify})
    for role in ("kiosk", "display", "desk"):
        shown = public_office(full, role).model_dump_json()
        assert secret not in shown and "hub.key" not in shown and "V" * 43 not in shown, role
        assert "sms.example" not in shown and "smtp.example" not in shown, role
        assert public_office(full, role).notify.near == 4  # what a page may say stays
        # Only that text messages are offered (a kiosk asks for a number), not where to.
        assert public_office(full, role).notify.channels == {"sms"}
    assert public_office(full, "kiosk").staff == [] and public_office(full, "desk").staff
    # A provider through apprise: its URL (with its key) stays on the hub too.
    sms = notify.sms.model_copy(
        update={"url": None, "apprise": f"twilio://AC1:{secret}@+1555/{{to}}"}
    )
    full = full.model_copy(update={"notify": notify.model_copy(update={"sms": sms})})
    for role in ("kiosk", "display", "desk"):
        assert secret not in public_office(full, role).model_dump_json(), role
        assert public_office(full, role).notify.channels == {"sms"}


def test_a_missing_office_ca_is_named_not_a_tls_error(config: OfficeConfig, tmp_path: Path) -> None:
    from nowserving.sync.tls import verify_for

    missing = tmp_path / "office-ca.pem"
    away = config.model_copy(
        update={"hub": config.hub.model_copy(update={"ca_file": str(missing)})}
    )
    with pytest.raises(ConfigError, match=r"office-ca\.pem is not on this PC"):
        verify_for(away)
    missing.write_text("x")
    assert verify_for(away) == str(missing)


def test_a_staff_name_with_a_control_character_is_refused_by_name() -> None:
    staff = '[[staff]]\nid = "eve"\nname = "Eve\\u001b[2J"\npin_hash = "scrypt$x"\n'
    with pytest.raises(ConfigError) as refused:
        parse_config(sample_config().read_text(encoding="utf-8") + staff, "office.toml")
    assert str(refused.value) == (
        "office.toml: staff[3].name: no control characters (line breaks, tabs, escapes) in a name"
    )
