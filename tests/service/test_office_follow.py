"""Apps sharing the hub's store on its PC take up an office changed at the hub."""

from __future__ import annotations

from pathlib import Path

from nowserving.domain.config import load_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.system.paths import sample_config


def test_a_local_service_follows_the_office_the_hub_holds(tmp_path: Path) -> None:
    sample = load_config(sample_config())
    hub_store = EventStore(tmp_path / "office.sqlite")
    Registry(hub_store).import_file(sample, sample_config().read_text(encoding="utf-8"))
    app_store = EventStore(tmp_path / "office.sqlite")  # another process's connection
    service = LocalService(app_store, sample, "kiosk-1", registry=Registry(app_store))
    service.refresh()  # whatever opening the store counted as a change
    assert service.refresh() is False
    lines = [line.model_dump(mode="json") for line in sample.lines]
    lines[0]["name"]["en"] = "Permits and plans"
    Registry(hub_store).set_office(sample.model_validate({**sample.model_dump(), "lines": lines}))
    assert service.refresh() is True
    assert service.config.line("permits").name["en"] == "Permits and plans"
    assert service.refresh() is False
    hub_store.close()
    app_store.close()
