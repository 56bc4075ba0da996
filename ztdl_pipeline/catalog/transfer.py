"""Transfer examples (ch11, pretrained models for images): data only.

One image set -> Xception bottleneck features -> three cards (bottleneck head, end-to-end, fine-tuned), each a
pixels -> classes model that is reported, gated and exported; plus the zero-shot and image-search reports.
Each card holds the book's training settings (`hyper`, the run-config defaults), what the fast profile changes
(`fast`), the builder by reference, the book's numbers with their source lines and the gate.
"""

from __future__ import annotations

from ztdl_pipeline.core.image_specs import Bottlenecks, TransferCard
from ztdl_pipeline.core.report import BookNumber as B

TRANSFER = "ztdl_pipeline.core.transfer:"

# ------------------------------------------------------------------ raw data

# raw/sports_images_raw: the sports pictures downloaded from sports.csv's URLs (core/downloads.sports_images).
# split: 'stratified' = the book's code, train_test_split(sports.csv, test_size=0.3, random_state=2,
# stratify=class); 'csv' = the book repository's sports/sports_{train,test}.csv.
SPORTS_IMAGES = {
    "split": "stratified", "test_size": 0.3, "random_state": 2,
    "workers": 16,  # the book: ThreadPoolExecutor(max_workers=20)
    "timeout_seconds": 15.0,  # per request
    "retries": 2,  # transient errors (timeouts, 5xx, 429) are retried with exponential backoff
    "backoff_seconds": 0.5,
    "max_failed_share": 0.2,  # the asset fails when more of the downloads than this fail
    "per_class": 0,  # 0: every URL; >0: at most this many per class and split (first ones)
    "url_prefix": "",  # replace the canonical host (core/downloads.SPORTS_HOST), e.g. a local copy; "": keep it
}
SPORTS_IMAGES_FAST = {"per_class": 10}

# ------------------------------------------------------------------ features: Xception bottleneck vectors

# image set -> the raw asset that lists its pictures (male_female: the vision group's folder index)
IMAGE_SETS = (Bottlenecks("male_female", "male_female"), Bottlenecks("sports", "sports_images"))

BOTTLENECKS = {
    "image_size": 299,  # the book's img_size (fast: Xception's smallest input, ~18× fewer FLOPs on a CPU)
    "batch_size": 32,
    "resize": "bilinear",  # tf.image.resize method (flow_from_directory used PIL 'nearest')
    "train_images": 0,  # images kept per split (class-stratified); 0: all (the book)
    "test_images": 0,
    "seed": 0,
}
BOTTLENECKS_FAST = {"image_size": 71, "train_images": 24, "test_images": 12}

# ------------------------------------------------------------------ examples

_SPORTS_BOOK_NOTE = "The book's numbers are on its 2,100 + 902 sports pictures at 299×299 with ImageNet weights. "
_MF_NOTE = ("The book runs chapter 11 on its sports pictures, which are not in the data mirror; here the same "
            "models run on the mirror's male/female faces (700 train, 200 test). The book's numbers, shown for "
            "reference, are for the 3 sports classes. ")
_FAST_NOTE = ("Under the fast profile Xception usually has random weights at 71×71 on a few dozen pictures, "
              "so the gate's fast floor is 0: the run exercises the export path, it says nothing about quality.")

_HEAD = {"epochs": 20, "batch_size": 32, "optimizer": "rmsprop"}
_END_TO_END = {"epochs": 1, "batch_size": 32, "optimizer": "rmsprop",
               "steps_per_epoch": 65,  # fit_generator(train_generator, steps_per_epoch=65, epochs=1)
               "augmentation": True}  # the book's ImageDataGenerator settings as random layers
_FINE_TUNE = {**_END_TO_END, "optimizer": "sgd", "learning_rate": 0.0001, "momentum": 0.9,
              "split_layer": 126}  # sol.ch11.ex3: Xception's layers[:126] stay frozen


def _cards(images: Bottlenecks) -> tuple[TransferCard, ...]:
    """The three cards of one image set: head, end_to_end, fine_tuned."""
    name, sports = images.name, images.name == "sports"
    common = dict(dataset=images.dataset, raw_dataset=images.raw, loss="categorical_crossentropy",
                  primary=("test", "accuracy"), fast_floor=0.0,
                  notes=(_SPORTS_BOOK_NOTE if sports else _MF_NOTE) + _FAST_NOTE)
    return (
        TransferCard(
            name=f"{name}_bottleneck_head", title=f"ch11 {name}: classifier on Xception bottlenecks",
            source="book ch11.sports_bottleneck_features + sports_fc_on_bottlenecks (L16020–16364)",
            builder=TRANSFER + "head_model", kind="head", threshold=None if sports else 0.7, tolerance=0.05,
            hyper=_HEAD, fast={"epochs": 5},
            book=(B("test", "accuracy", 0.9046563192904656,
                    "L15994 (the end-to-end model after 1 epoch; the bottleneck head prints only a plot: "
                    "test above train, L16364)"),), **common),
        TransferCard(
            name=f"{name}_transfer_end_to_end", title=f"ch11 {name}: frozen Xception + dense head, augmented",
            source="book ch11.sports_transfer_learning_xception (L15760–16018)",
            builder=TRANSFER + "transfer_model", kind="end_to_end", threshold=None if sports else 0.65,
            tolerance=0.1, hyper=_END_TO_END, fast={"steps_per_epoch": 2, "batch_size": 8},
            book=(B("test", "accuracy", 0.9046563192904656, "L15994"),
                  B("history", "accuracy", 0.7945, "L15978 (65 steps)"),
                  B("history", "loss", 0.5263, "L15978")), **common),
        TransferCard(
            name=f"{name}_fine_tuned", title=f"ch11 exercise 3 {name}: fine-tuning the top Xception blocks",
            source="book sol.ch11.ex3_xception_finetune_sports (L23866–24119)",
            builder=TRANSFER + "unfreeze_top", kind="fine_tuned", start=f"{name}_transfer_end_to_end",
            threshold=0.65, tolerance=0.1, hyper=_FINE_TUNE, fast={"steps_per_epoch": 2, "batch_size": 8},
            book=(B("history", "accuracy", 0.9110, "L24117 (train, 65 steps)"),
                  B("history", "loss", 0.2432, "L24117")), **common),
    )


CARDS = tuple(card for images in IMAGE_SETS for card in _cards(images))

# ------------------------------------------------------------------ reports: zero-shot, image search

ZERO_SHOT = {
    "photos": ["elephant_photo", "iss_photo"],  # catalog entries (pictures in the data mirror)
    "dataset_images": 2,  # plus the first test pictures of raw/male_female_raw
    "top": 5, "resize": "bilinear",
}
ZERO_SHOT_PICTURES = "male_female"  # the folder whose first test pictures it also labels

IMAGE_SEARCH = {
    "k": 8,  # neighbours per query (the book shows the 9 nearest, the query itself first)
    "queries_per_class": 2, "thumbnail": 64,
}
