"""The inline learning curve (core/sparkline.py): a real PNG that decodes, draws each curve in its own colour,
puts the first epoch's (higher) loss above the last, and stays under the UI's inline limit."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from ztdl_pipeline.core.results import INLINE_MARKDOWN_LIMIT
from ztdl_pipeline.core.sparkline import loss_markdown, png


def _decoded(markdown: str) -> Image.Image:
    data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1)
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_a_noisy_200_epoch_history_fits_inline_and_decodes():
    rng = np.random.default_rng(0)
    epochs = np.arange(200)
    history = {"loss": list(0.2 + 2.5 * np.exp(-epochs / 20) + 0.05 * rng.random(200)),
               "val_loss": list(0.3 + 2.5 * np.exp(-epochs / 20) + 0.08 * rng.random(200)),
               "accuracy": list(np.linspace(0.5, 0.99, 200))}
    text = loss_markdown(history)
    assert text is not None and len(text) < INLINE_MARKDOWN_LIMIT
    image = _decoded(text).convert("RGB")
    colours = {colour for _, colour in image.getcolors()}
    assert (31, 119, 180) in colours and (255, 127, 14) in colours  # train blue, validation orange
    assert "train (blue) 2.7" in text and "validation (orange)" in text and "200 epochs" in text


def test_the_first_epochs_high_loss_is_drawn_above_the_last():
    image = Image.open(io.BytesIO(png([[3.0, 2.0, 1.0, 0.5]], width=40, height=20))).convert("RGB")
    pixels = np.array(image)
    blue = np.argwhere((pixels == (31, 119, 180)).all(axis=-1))  # (row, column)
    first, last = blue[blue[:, 1] == blue[:, 1].min()], blue[blue[:, 1] == blue[:, 1].max()]
    assert first[:, 0].mean() < last[:, 0].mean()  # a smaller row index is higher on the image


def test_no_loss_or_only_nan_gives_no_entry():
    assert loss_markdown({"accuracy": [0.5, 0.9]}) is None
    assert loss_markdown({"loss": [float("nan"), float("nan")]}) is None
    assert loss_markdown({"loss": [0.7]}) is not None  # one epoch: a dot, still a picture
