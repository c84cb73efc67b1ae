"""The design tokens every page uses: one set of colours per theme, spacing and type steps.

Every text colour here is paired with the backgrounds it is drawn on in ``TEXT_ON``, and
``tests/test_theme.py`` checks each pair against WCAG AA (4.5:1), in both themes; the colours
that show where a control is or what state it is in (a check box's frame, a checked box's fill,
an icon) are paired in ``GRAPHIC_ON`` and checked against WCAG 1.4.11's 3:1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Colours:
    dark: bool
    window: str  # the app's background
    surface: str  # lists, the transcript, text fields
    surface_alt: str  # alternate rows, side panels
    border: str  # dividers and panel edges: quiet on purpose
    control_border: str  # what marks a control's edge (check box, field, list): 3:1 on the backgrounds
    text: str
    text_dim: str  # secondary text, placeholders, the stats line
    accent: str  # links, the selected page, primary buttons
    on_accent: str  # text on the accent
    selection: str
    on_selection: str
    success: str  # "fits", on the surface
    warning: str  # "tight", on the surface
    danger: str  # "won't fit", errors in a line of text, on the surface
    info_bg: str
    on_info: str
    warning_bg: str
    on_warning: str
    danger_bg: str
    on_danger: str
    highlight_bg: str  # a search match in the transcript
    on_highlight: str
    code_bg: str
    think_bg: str
    user_bubble: str  # the person's turns


LIGHT = Colours(
    dark=False,
    window="#f6f7f9",
    surface="#ffffff",
    surface_alt="#f0f2f5",
    border="#d4d8de",
    control_border="#7d8590",
    text="#1f2328",
    text_dim="#59636e",
    accent="#0a63c9",
    on_accent="#ffffff",
    selection="#cfe3fc",
    on_selection="#0b1f33",
    success="#1a7431",
    warning="#8a5a00",
    danger="#b42318",
    info_bg="#e8f1fc",
    on_info="#0b3a6e",
    warning_bg="#fff4d6",
    on_warning="#5c4400",
    danger_bg="#fde2e1",
    on_danger="#7a1512",
    highlight_bg="#ffe066",
    on_highlight="#1f2328",
    code_bg="#f1f3f5",
    think_bg="#f4f4f8",
    user_bubble="#e9f1fb",
)

DARK = Colours(
    dark=True,
    window="#17191c",
    surface="#1e2024",
    surface_alt="#25282d",
    border="#3a3f46",
    control_border="#767e88",
    text="#e6e8eb",
    text_dim="#a3abb5",
    accent="#5aa2f7",
    on_accent="#0b1520",
    selection="#24426b",
    on_selection="#eef5ff",
    success="#5cc27a",
    warning="#e3b341",
    danger="#ff8a80",
    info_bg="#1d3049",
    on_info="#cfe3fc",
    warning_bg="#3d3113",
    on_warning="#f5dc9c",
    danger_bg="#4a1f1f",
    on_danger="#ffd0cc",
    highlight_bg="#8a6d00",
    on_highlight="#ffffff",
    code_bg="#272a30",
    think_bg="#24262b",
    user_bubble="#1f2f45",
)

# Each text colour and the backgrounds it is drawn on.
TEXT_ON: dict[str, tuple[str, ...]] = {
    "text": ("window", "surface", "surface_alt", "code_bg", "think_bg", "user_bubble", "selection"),
    "text_dim": ("window", "surface", "surface_alt", "think_bg", "user_bubble"),
    "accent": ("window", "surface", "surface_alt", "user_bubble"),
    "on_accent": ("accent",),
    "on_selection": ("selection",),
    "success": ("surface", "surface_alt", "window"),
    "warning": ("surface", "surface_alt", "window"),
    "danger": ("surface", "surface_alt", "window"),
    "on_info": ("info_bg",),
    "on_warning": ("warning_bg",),
    "on_danger": ("danger_bg",),
    "on_highlight": ("highlight_bg",),
}

# Each colour that marks a control or its state (WCAG 1.4.11, 3:1), and what it is drawn on.
GRAPHIC_ON: dict[str, tuple[str, ...]] = {
    "control_border": ("window", "surface", "surface_alt"),
    "accent": ("window", "surface", "surface_alt"),  # a checked box, a progress bar's fill
    "on_accent": ("accent",),  # the check mark
    "text": ("window", "surface", "surface_alt", "selection"),  # icons
    "success": ("window", "surface", "surface_alt", "selection"),  # fit icons, in selected rows too
    "warning": ("window", "surface", "surface_alt", "selection"),
    "danger": ("window", "surface", "surface_alt", "selection"),
}

SPACING = {"xs": 4, "s": 8, "m": 12, "l": 16, "xl": 24, "xxl": 32}
RADIUS = {"s": 4, "m": 8, "l": 12}
# Type steps as multiples of the system's own font size (a person's setting is kept).
TYPE = {"small": 0.9, "body": 1.0, "title": 1.25, "display": 1.6}


def colour_names() -> list[str]:
    return [f.name for f in fields(Colours) if f.name != "dark"]


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of ``#rrggbb``."""
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio, 1 to 21; AA asks 4.5 for body text."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)
