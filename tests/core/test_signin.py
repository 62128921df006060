from __future__ import annotations

import pytest

from nowserving.config import OfficeConfig
from nowserving.signin import LOCKOUT_SECONDS, PinGate, SignInRefused


def test_right_pin_wrong_pin_and_lockout(config: OfficeConfig) -> None:
    now = [0.0]
    gate = PinGate(config, lambda: now[0])
    assert gate.check("maria", "1234").name == "Maria"
    for _ in range(5):
        with pytest.raises(SignInRefused, match="Wrong"):
            gate.check("tom", "0000")
    with pytest.raises(SignInRefused, match="Too many wrong PINs") as locked:
        gate.check("tom", "2468")  # even the right PIN, for now
    assert locked.value.locked
    assert gate.check("maria", "1234")  # others are not locked out
    now[0] += LOCKOUT_SECONDS + 1
    assert gate.check("tom", "2468").id == "tom"


def test_a_bare_pin_pad_finds_whose_pin_it_is(config: OfficeConfig) -> None:
    gate = PinGate(config)
    assert gate.check_any("1357").id == "lin"
    with pytest.raises(SignInRefused):
        gate.check_any("9999")
