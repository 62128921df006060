"""The `nowserving` command, run as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from nowserving import __version__
from nowserving.cli.main import build_parser
from nowserving.domain.config import load_config, public_office
from nowserving.domain.security import verify_pin
from nowserving.system.paths import sample_config

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nowserving", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_help_and_version() -> None:
    shown = _run("--help")
    assert shown.returncode == 0
    for command in ("demo", "hub", "kiosk", "display", "desk", "init", "check-config"):
        assert command in shown.stdout
    assert _run("--version").stdout.strip() == f"nowserving {__version__}"


def test_init_sets_up_an_office_and_says_what_to_run_where(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    result = _run(
        "init",
        str(path),
        "--yes",
        "--name",
        'Harbor "Permit" Office',
        "--languages",
        "en,es",
        "--lines",
        "Building permits, Business licenses",
        "--counters",
        "3",
        "--kiosks",
        "2",
        "--public-url",
        "https://queue.example.org",
        "--hub-address",
        "192.0.2.10",
        "--staff",
        "Ana, Ben",
    )
    assert result.returncode == 0, result.stderr
    config = load_config(path)
    assert config.office.name == 'Harbor "Permit" Office'
    assert [line.prefix for line in config.lines] == ["A", "B"]
    assert len(config.counters) == 3 and config.devices == []  # devices pair with a code
    pins = dict(line.strip().split(": ") for line in result.stdout.splitlines()[1:3])
    for person in config.staff:
        assert verify_pin(pins[person.name], person.pin_hash)
    assert config.staff[0].line_control and not config.staff[1].line_control
    assert config.staff[0].admin and not config.staff[1].admin
    assert "nowserving pair --role kiosk --id kiosk-2" in result.stdout
    assert "nowserving kiosk --hub https://192.0.2.10:8400 --pair CODE" in result.stdout
    # HTTPS: the office CA and the hub's certificate beside the config, the keys private.
    assert config.hub.tls and config.hub.ca_file == str(tmp_path / "office-ca.pem")
    for key in ("hub.key", "office-ca.key"):
        assert (tmp_path / key).stat().st_mode & 0o777 == 0o600
    hub_cert = x509.load_pem_x509_certificate((tmp_path / "hub.pem").read_bytes())
    names = hub_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "192.0.2.10" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    # Web Push: the hub's own VAPID key, in the private file only; devices get none of it.
    assert config.notify.channels == {"push"}
    assert public_office(config, "desk").notify.push.vapid_private_key is None
    assert _run("init", str(path), "--yes").returncode == 1  # never overwrites by surprise
    # A new hub address: a new certificate from the same CA, the config left as it is.
    ca = (tmp_path / "office-ca.pem").read_bytes()
    renewed = _run("init", str(path), "--certificates", "--hub-address", "hub.lan")
    assert renewed.returncode == 0, renewed.stderr
    hub_cert = x509.load_pem_x509_certificate((tmp_path / "hub.pem").read_bytes())
    names = hub_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "hub.lan" in names.get_values_for_type(x509.DNSName)
    assert (tmp_path / "office-ca.pem").read_bytes() == ca and load_config(path) == config


def test_init_asks_a_person_at_a_terminal() -> None:
    from nowserving.cli.starter import Answers, ask, render

    replies = iter(
        [
            "City Hall",
            "Europe/Paris",
            "fr, en",
            "",
            "",  # the hub's LAN address: the public URL's host
            "Passeports, Cartes",
            "2",
            "1",
            "1",
            "1",
            "Chloé",
            "0033",  # not a country calling code: asked again
            "+33",
        ]
    )
    answers = ask(Answers(), lambda _question: next(replies))
    assert (answers.name, answers.languages, answers.lines) == (
        "City Hall",
        ["fr", "en"],
        ["Passeports", "Cartes"],
    )
    assert answers.hub_address == "localhost"
    text, pins = render(answers)
    assert 'name = { fr = "Passeports", en = "[todo] Passeports" }' in text
    assert list(pins) == ["Chloé"]
    assert 'country_code = "33"' in text


def test_init_writes_every_language_and_check_config_names_each_missing_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "office.toml"
    made = _run("init", str(path), "--yes", "--languages", "en,es,ar", "--lines", "Passports")
    assert made.returncode == 0, made.stderr
    assert "marked [todo]" in made.stdout  # init says what is left to translate
    config = load_config(path)
    # What the catalogs can translate is written in every language at once...
    assert config.counters[0].name == {"en": "Counter 1", "es": "Ventanilla 1", "ar": "الشباك 1"}
    assert {r.id for r in config.pause_reasons} >= {"lunch", "system-down"}
    assert config.text(config.pause_reasons[0].text, "ar") == "استراحة الغداء، نعود قريبًا"
    # ...a name typed in English is copied, marked, and residents get English meanwhile.
    assert config.lines[0].name["ar"] == "[todo] Passports"
    assert config.text(config.lines[0].name, "ar") == "Passports"
    checked = _run("check-config", str(path))
    assert checked.returncode == 2 and "OK" in checked.stdout
    assert checked.stderr.splitlines()[1:] == [
        f"{path}: lines[0].name: not translated into 'es' (still marked [todo])",
        f"{path}: lines[0].name: not translated into 'ar' (still marked [todo])",
    ]
    # The older form: one plain counter name is the first language's, missing in the others.
    plain = tmp_path / "plain.toml"
    text = path.read_text().replace('"[todo] Passports"', '"Pasaportes"', 1)
    text = text.replace('"[todo] Passports"', '"جوازات السفر"')
    text = text.replace(
        'name = { en = "Counter 1", es = "Ventanilla 1", ar = "الشباك 1" }', 'name = "Counter 1"'
    )
    plain.write_text(text)
    assert _run("check-config", str(plain)).stderr.splitlines()[1:] == [
        f"{plain}: counters[0].name: no text in 'es'",
        f"{plain}: counters[0].name: no text in 'ar'",
    ]


def test_check_config_reports_problems_without_a_traceback(tmp_path: Path) -> None:
    good = _run("check-config", str(sample_config()))
    assert good.returncode == 0 and "OK" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(sample_config().read_text().replace('prefix = "C"', 'prefix = "c"'))
    result = _run("check-config", str(bad))
    assert result.returncode == 1
    assert f"{bad}: lines[2].prefix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_hash_pin_reads_stdin() -> None:
    result = _run("hash-pin", stdin="4321\n")
    assert result.returncode == 0 and verify_pin("4321", result.stdout.strip())
    assert _run("hash-pin", stdin="12\n").returncode == 1


def test_an_app_without_the_gui_extra_says_so() -> None:
    """A server installed without [gui]: the app says what to install, not a traceback."""
    code = (
        "import sys; sys.modules['PySide6'] = None; "  # as if PySide6 were not installed
        "from nowserving.cli.main import main; "
        f"sys.exit(main(['display', '--config', {str(sample_config())!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "the display needs the gui extra" in result.stderr
    assert "pip install 'nowserving[gui]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_core_never_imports_qt() -> None:
    code = (
        "import nowserving, nowserving.cli.main, nowserving.service.local, sys; "
        "assert not any(m.startswith('PySide6') for m in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(tool), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def test_the_layers_hold() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        (
            "nowserving/domain/rules.py",
            "import nowserving.store",
            "domain is not allowed to import",
        ),
        ("nowserving/domain/clock.py", "import sqlite3", "domain is not allowed to import sqlite3"),
        ("nowserving/store/reports.py", "import PySide6.QtCore", "not allowed to import PySide6"),
        ("display/window.py", "import kiosk.window", "display is not allowed to import kiosk"),
    ],
)
def test_the_layer_check_catches_a_step_across(
    tmp_path: Path, module: str, line: str, complaint: str
) -> None:
    for part in ("pyproject.toml", "nowserving", "nowserving_qt", "kiosk", "display", "desk"):
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert complaint in " ".join(result.stdout.split()), result.stdout


@pytest.mark.parametrize("before", [True, False])
def test_data_folder_goes_before_or_after_the_command(tmp_path: Path, before: bool) -> None:
    data = ["--data", str(tmp_path)]
    command = ["purge", "--config", str(sample_config())]
    args = build_parser().parse_args(data + command if before else command + data)
    assert args.data == str(tmp_path)
    assert build_parser().parse_args(command).data is None  # the default stays


def test_export_writes_the_hubs_office_into_the_file_keeping_its_comments(tmp_path: Path) -> None:
    from nowserving.cli.main import main
    from nowserving.store.eventstore import EventStore
    from nowserving.store.registry import Registry

    text = sample_config().read_text(encoding="utf-8")
    store = EventStore(tmp_path / "office.sqlite")
    registry = Registry(store)
    assert registry.import_file(load_config(sample_config()), text)
    assert not registry.import_file(load_config(sample_config()), text)  # once per file text
    office = registry.office()
    assert office is not None
    lines = [line.model_dump(mode="json") for line in office[1].lines]
    lines[0]["name"]["en"] = "Permits and plans"
    registry.set_office(office[1].model_validate({**office[1].model_dump(), "lines": lines}))
    store.close()
    path = tmp_path / "office.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["--data", str(tmp_path), "export", str(path)]) == 0
    written = path.read_text(encoding="utf-8")
    exported = load_config(path)
    assert exported.line("permits").name["en"] == "Permits and plans"
    assert exported.devices == []  # secrets stay (hashed) in the hub
    assert "# The first language is the default" in written  # the file's own comments
    assert written.count("\n") < text.count("\n")  # only the [[devices]] went


def test_the_demo_console_says_what_the_parts_share_once() -> None:
    from nowserving.cli.demo import Console

    console = Console()
    no_sound = "nowserving_qt.checks: No audio output: calls are shown but not heard."
    assert console.fresh("display", f"2026-12-01 09:00:01,100 {no_sound}")
    assert not console.fresh("kiosk", f"2026-12-01 09:00:02,250 {no_sound}")  # same PC, same news
    assert console.fresh("display", f"2026-12-01 09:10:00,000 {no_sound}")  # its own repeat
    assert console.fresh("kiosk", "2026-12-01 09:00:03,000 kiosk: printer out of paper")


def test_check_config_hints_at_the_country_code_where_texts_are_offered(tmp_path: Path) -> None:
    path = tmp_path / "texts.toml"
    path.write_text(sample_config().read_text() + '\n[notify.sms]\nurl = "http://127.0.0.1:9/"\n')
    checked = _run("check-config", str(path))
    assert checked.returncode == 0 and "[notify] country_code is not set" in checked.stderr
