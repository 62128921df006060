"""`[city]`: the database address stays on the hub, and names the office it streams as."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nowserving.domain.config import City, OfficeConfig, public_office

URL = "postgresql://office:s3cret@city.example/city"


def test_a_database_needs_an_office_id() -> None:
    with pytest.raises(ValidationError, match="office_id is required"):
        City(database=URL)
    with pytest.raises(ValidationError, match="database"):
        City(database="mysql://elsewhere/db", office_id="north")


def test_devices_never_receive_the_city_database_address(config: OfficeConfig) -> None:
    hub = config.model_copy(update={"city": City(database=URL, office_id="north")})
    for role in ("kiosk", "display", "desk"):
        assert "s3cret" not in public_office(hub, role).model_dump_json()
