"""The transfer examples as cards: data only (no Dagster, no Keras import), staged here to be lifted into the
catalogue as is. One image set -> three cards (bottleneck head, end-to-end, fine-tuned), each a pixels ->
classes model that is reported, gated and exported. Run-config defaults (the book's training settings) and the
fast profile's overrides are the config classes in assets/transfer.py."""

from __future__ import annotations

import dataclasses

from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import Card

# image set -> the raw asset that lists its pictures (a DataFrame: file, sha256, split, class_name)
IMAGE_SETS = {"male_female": "male_female", "sports": "sports_images"}


@dataclasses.dataclass(frozen=True)
class TransferExample(Card):
    raw_dataset: str = ""  # the raw asset behind the bottleneck features (factory._raw_name reads it)


_SPORTS_BOOK_NOTE = ("The book's numbers are on its 2,100 + 902 sports pictures at 299×299 with ImageNet weights. ")
_MF_NOTE = ("The book runs chapter 11 on its sports pictures, which are not in the data mirror; here the same "
            "models run on the mirror's male/female faces (700 train, 200 test). The book's numbers, shown for "
            "reference, are for the 3 sports classes. ")
_FAST_NOTE = ("Under the fast profile Xception usually has random weights at 71×71 on a few dozen pictures, "
              "so the gate's fast floor is 0: the run exercises the export path, it says nothing about quality.")


def cards(name: str) -> dict[str, TransferExample]:
    """The three cards of one image set, by kind: head, end_to_end, fine_tuned."""
    sports = name == "sports"
    note = (_SPORTS_BOOK_NOTE if sports else _MF_NOTE) + _FAST_NOTE
    common = dict(dataset=f"{name}_bottlenecks", raw_dataset=IMAGE_SETS[name], builder="xception",
                  loss="categorical_crossentropy", primary=("test", "accuracy"), fast_floor=0.0, notes=note)
    return {
        "head": TransferExample(
            name=f"{name}_bottleneck_head", title=f"ch11 {name}: classifier on Xception bottlenecks",
            source="book ch11.sports_bottleneck_features + sports_fc_on_bottlenecks (L16020–16364)",
            threshold=None if sports else 0.7, tolerance=0.05,
            book=(B("test", "accuracy", 0.9046563192904656,
                    "L15994 (the end-to-end model after 1 epoch; the bottleneck head prints only a plot: "
                    "test above train, L16364)"),), **common),
        "end_to_end": TransferExample(
            name=f"{name}_transfer_end_to_end", title=f"ch11 {name}: frozen Xception + dense head, augmented",
            source="book ch11.sports_transfer_learning_xception (L15760–16018)",
            threshold=None if sports else 0.65, tolerance=0.1,
            book=(B("test", "accuracy", 0.9046563192904656, "L15994"),
                  B("history", "accuracy", 0.7945, "L15978 (65 steps)"),
                  B("history", "loss", 0.5263, "L15978")), **common),
        "fine_tuned": TransferExample(
            name=f"{name}_fine_tuned", title=f"ch11 exercise 3 {name}: fine-tuning the top Xception blocks",
            source="book sol.ch11.ex3_xception_finetune_sports (L23866–24119)",
            threshold=0.65, tolerance=0.1,
            book=(B("history", "accuracy", 0.9110, "L24117 (train, 65 steps)"),
                  B("history", "loss", 0.2432, "L24117")), **common),
    }
