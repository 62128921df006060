"""Bearer tokens checked on the hub's event loop: reads only, and a fallback that writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nowserving.domain.config import load_config
from nowserving.hub.auth import Access, AuthError, session_hash
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config


def test_a_session_that_ended_is_left_to_the_writing_check_which_deletes_it(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    store = EventStore(tmp_path / "office.sqlite")
    access = Access(load_config(sample_config()), store, clock=lambda: now[0])
    store.add_session(session_hash("live"), "maria", "desk-1", 2000.0)
    store.add_session(session_hash("ended"), "maria", "desk-1", 500.0)

    caller = access.identify_quick("live")
    assert caller is not None and caller.staff_id == "maria"
    assert access.identify_quick("ended") is None  # the event loop does not write
    assert store.session(session_hash("ended")) is not None
    with pytest.raises(AuthError, match="session has ended"):
        access.identify("ended")
    assert store.session(session_hash("ended")) is None
    with pytest.raises(AuthError, match="Unknown device secret"):
        access.identify_quick("ended")
    store.close()
