"""Colours and sizes for every screen, scaled to the window so 1280x800 and 4K both fit.

One stylesheet per (size, mode) is generated here; widgets only set object
names and dynamic properties, never colours or pixel sizes of their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    background: str
    surface: str
    text: str
    muted: str
    primary: str
    on_primary: str
    accent: str
    danger: str
    disabled: str
    border: str
    alert: str  # something is wrong right now (offline): unlike any announcement
    on_alert: str


NORMAL = Palette(
    background="#eef1f5",
    surface="#ffffff",
    text="#1b1b1b",
    muted="#4a4f57",
    primary="#1a5fb4",
    on_primary="#ffffff",
    accent="#e66100",
    danger="#a51d2d",
    disabled="#8a8f98",
    border="#c3c8d0",
    alert="#f6d32d",
    on_alert="#1b1b1b",
)
HIGH_CONTRAST = Palette(
    background="#000000",
    surface="#000000",
    text="#ffffff",
    muted="#ffff00",
    primary="#ffff00",
    on_primary="#000000",
    accent="#00ffff",
    danger="#ff6b6b",
    disabled="#b0b0b0",
    border="#ffffff",
    alert="#ff6b6b",
    on_alert="#000000",
)


def palette(contrast: bool) -> Palette:
    return HIGH_CONTRAST if contrast else NORMAL


def unit(height: int, large: bool = False) -> int:
    """The base text size in px for a window `height` px tall (x1.35 for larger text)."""
    base = max(16, round(height / 38))
    return round(base * 1.35) if large else base


def stylesheet(
    height: int,
    *,
    large: bool = False,
    contrast: bool = False,
    primary: str | None = None,
    focus_ring: bool = True,
    thick_focus: bool = False,
) -> str:
    """The whole app's Qt stylesheet for one window size and accessibility mode."""
    p = HIGH_CONTRAST if contrast else NORMAL
    if primary and not contrast:
        p = Palette(**{**p.__dict__, "primary": primary})
    u = unit(height, large)
    base = unit(height)  # the bottom bar keeps its size: it must always fit in one row
    border = 4 if contrast else 2
    return f"""
    QWidget {{ background: {p.background}; color: {p.text}; font-size: {u}px; }}
    QLabel {{ background: transparent; }}
    QLabel[role="title"] {{ font-size: {round(u * 2.1)}px; font-weight: 700; }}
    QLabel[role="subtitle"] {{ font-size: {round(u * 1.3)}px; color: {p.muted}; }}
    QLabel[role="huge"] {{ font-size: {round(unit(height) * 6)}px; font-weight: 800; }}
    QLabel[role="huge-flash"] {{ font-size: {round(unit(height) * 6)}px; font-weight: 800;
        background: {p.accent}; color: #ffffff; border-radius: {u}px; }}
    QLabel[role="huge-stale"] {{ font-size: {round(unit(height) * 6)}px; font-weight: 800;
        color: {p.disabled}; }}
    QLabel[role="big"] {{ font-size: {round(u * 1.6)}px; font-weight: 600; }}
    QLabel[role="line-name"] {{ font-size: {round(u * 1.25)}px; font-weight: 700; }}
    QLabel[role="warning"] {{ color: {p.danger}; font-weight: 700; }}
    QLabel[role="banner"] {{ background: {p.primary}; color: {p.on_primary};
        font-size: {round(u * 1.2)}px; font-weight: 700; padding: {u // 2}px {u}px; }}
    QLabel[role="alert"] {{ background: {p.alert}; color: {p.on_alert};
        font-size: {round(u * 1.2)}px; font-weight: 700; padding: {u // 2}px {u}px;
        border: {border}px dashed {p.on_alert}; }}
    QFrame[role="card"] {{ background: {p.surface}; border: {border}px solid {p.border};
        border-radius: {u}px; }}
    QPushButton {{ background: {p.surface}; color: {p.text}; border: {border}px solid {p.primary};
        border-radius: {round(u * 0.8)}px; padding: {u // 2}px {u}px; font-weight: 600;
        min-height: {round(u * 3)}px; }}
    QPushButton:focus {{ border: {border + 3 if thick_focus else border}px solid
        {p.accent if focus_ring else p.primary}; }}
    QPushButton[role="primary"] {{ background: {p.primary}; color: {p.on_primary}; }}
    QLabel[role="glance"] {{ color: {p.muted}; font-size: {round(u * 0.85)}px; }}
    QPushButton[role="tool"], QPushButton[role="back"] {{ font-size: {round(base * 0.95)}px;
        min-height: {round(base * 2.8)}px;
        padding: {u // 4}px {u // 2}px; }}
    QPushButton[role="tool"]:checked {{ background: {p.primary}; color: {p.on_primary}; }}
    QPushButton:disabled {{ color: {p.disabled}; border-color: {p.disabled}; }}
    QPushButton[role="tile"], QPushButton[role="language"] {{ padding: {u // 3}px;
        min-height: 0px; }}
    QPushButton[role="back"] {{ min-width: {base * 6}px; }}
    QLabel[role="language-name"] {{ font-size: {round(u * 1.4)}px; font-weight: 700; }}
    QLabel[role="language-hint"] {{ color: {p.muted}; }}
    QLabel[role="appointment"] {{ font-weight: 700; }}
    QLabel[role="tile-name"] {{ font-size: {round(u * 1.35)}px; font-weight: 700; }}
    QLabel[role="tile-detail"] {{ color: {p.muted}; }}
    QLabel[role="tile-status"] {{ font-weight: 600; }}
    QLabel[role="tile-warning"] {{ color: {p.danger}; font-weight: 700; }}
    """


def desk_stylesheet(*, primary: str | None = None) -> str:
    """The front desk's stylesheet: a desktop app, mouse and keyboard, normal control sizes.

    Only what the desk marks with a role is styled; every other control keeps the
    platform's look and size.
    """
    p = NORMAL if not primary else Palette(**{**NORMAL.__dict__, "primary": primary})
    return f"""
    QLabel[role="title"] {{ font-size: 22px; font-weight: 700; }}
    QLabel[role="big"] {{ font-size: 17px; font-weight: 600; }}
    QLabel[role="huge"] {{ font-size: 40px; font-weight: 800; }}
    QLabel[role="warning"] {{ color: {p.danger}; font-weight: 700; }}
    QLabel[role="alert"] {{ background: {p.alert}; color: {p.on_alert}; font-weight: 600;
        padding: 6px 10px; border: 1px solid {p.on_alert}; }}
    QPushButton[role="primary"] {{ background: {p.primary}; color: {p.on_primary};
        font-weight: 700; border: 1px solid {p.primary}; border-radius: 3px; padding: 4px 14px; }}
    QPushButton[role="primary"]:disabled {{ background: {p.disabled}; border-color: {p.disabled}; }}
    """
