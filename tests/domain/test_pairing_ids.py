"""Device ids a pairing may give: valid idents, none the hub uses for itself."""

from __future__ import annotations

import pytest

from nowserving.domain.pairing import check_device_id


@pytest.mark.parametrize("taken", ["admin-page", "hub"])
def test_the_names_the_hub_uses_for_itself_are_not_device_ids(taken: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        check_device_id(taken)
    assert check_device_id("kiosk-3") == "kiosk-3"
