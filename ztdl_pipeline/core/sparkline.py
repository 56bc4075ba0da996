"""A learning curve small enough for the Dagster UI to show inline.

The UI shows a Markdown metadata entry inline only when it is shorter than 1,000 characters
(core/results.INLINE_MARKDOWN_LIMIT); the report's plots are PNGs of tens of kilobytes, so they sit behind the
"[Show Markdown]" link. A 2-bit PNG of the loss per epoch, drawn with Pillow (no matplotlib: a few hundred
bytes), fits inline as a data URI with its caption, so the curve is on the report's page at first sight.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence

WIDTH, HEIGHT = 200, 60
# palette index: 0 white background, 1 train (matplotlib's blue), 2 validation (its orange)
PALETTE = [255, 255, 255, 31, 119, 180, 255, 127, 14, 180, 180, 180]
COLOURS = ("blue", "orange")


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def png(series: Sequence[Sequence[float]], width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Each series as a line (palette colours 1, 2, ...) on one shared vertical scale, epochs across."""
    from PIL import Image, ImageDraw

    image = Image.new("P", (width, height), 0)
    image.putpalette(PALETTE)
    draw = ImageDraw.Draw(image)
    values = [v for s in series for v in _finite(s)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    span = (high - low) or 1.0
    for colour, line in enumerate(series, start=1):
        points = [(i, v) for i, v in enumerate(line) if v is not None and math.isfinite(float(v))]
        if not points:
            continue
        last = max(len(line) - 1, 1)
        xy = [(i * (width - 1) / last, (height - 2) - (v - low) / span * (height - 4)) for i, v in points]
        draw.line(xy if len(xy) > 1 else xy * 2, fill=colour, width=1)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, bits=2)
    return out.getvalue()


def loss_markdown(history: Mapping[str, Sequence[float]], limit: int = 1000) -> str | None:
    """`![...](data:image/png;base64,...)` of the loss per epoch (train, and validation where recorded) with a
    one-line caption of where each curve started and ended; None when there is no loss or it cannot fit
    under `limit` characters even at a quarter of the width."""
    curves = [(name, history[name]) for name in ("loss", "val_loss") if _finite(history.get(name) or [])]
    if not curves:
        return None
    caption = "; ".join(f"{'train' if name == 'loss' else 'validation'} ({colour}) {_finite(c)[0]:.4g} → "
                        f"{_finite(c)[-1]:.4g}" for (name, c), colour in zip(curves, COLOURS))
    epochs = max(len(c) for _, c in curves)
    for width in (WIDTH, WIDTH // 2, WIDTH // 4):
        data = base64.b64encode(png([c for _, c in curves], width=width)).decode()
        text = (f"![loss per epoch](data:image/png;base64,{data})\n\n"
                f"Loss over {epochs} epoch{'s' if epochs != 1 else ''}: {caption}. All plots: the `report` entry.")
        if len(text) < limit:
            return text
    return None
