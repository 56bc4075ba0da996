"""The vision examples as cards: data only (no Dagster, no Keras import), what the book prints and how each
model is judged, with its builder named by reference. Staged here to be lifted into the catalogue as is; the
run-config defaults (the book's training settings) and the fast profile's overrides of them are the config
classes in assets/vision.py (CONFIGS)."""

from __future__ import annotations

from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import Card

_MNIST_NOTE = ("MNIST here is the mirror's repack of Keras' mnist.npz (same arrays, different bytes); pixels "
               "reach the model as raw uint8 and are rescaled by its first layer.")

CARDS: list[Card] = [
    Card(
        name="mnist_fc", dataset="mnist", title="ch6 MNIST: fully connected network",
        source="book ch6.mnist_fully_connected (L7834–8211)", builder="ztdl_pipeline.core.vision_models:mnist_fc",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.01, fast_floor=0.6,
        book=(B("test", "accuracy", 0.9813, "L8187"), B("train", "accuracy", 0.9954666666666667, "L8201"),
              B("history", "accuracy", 0.9949, "L8152 (epoch 10)"),
              B("history", "val_accuracy", 0.9823, "L8153"), B("history", "val_loss", 0.0987, "L8153")),
        notes=_MNIST_NOTE),
    Card(
        name="mnist_cnn", dataset="mnist", title="ch6 MNIST: convolutional network",
        source="book ch6.mnist_cnn (L8763–8894)", builder="ztdl_pipeline.core.vision_models:mnist_cnn", loss="categorical_crossentropy",
        primary=("test", "accuracy"), tolerance=0.01, fast_floor=0.75,
        book=(B("test", "accuracy", 0.9835, "L8891"), B("train", "accuracy", 0.9889, "L8890"),
              B("history", "val_accuracy", 0.9812, "L8862 (epoch 5)"),
              B("history", "val_loss", 0.0616, "L8862")),
        notes=_MNIST_NOTE),
    Card(
        name="mnist_two_conv", dataset="mnist", title="ch6 exercise 1: MNIST with two convolution blocks",
        source="book sol.ch6.ex1_mnist_two_conv (L21976–22105)", builder="ztdl_pipeline.core.vision_models:mnist_two_conv",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.02, fast_floor=0.5,
        book=(B("test", "accuracy", 0.9752, "L22105"), B("test", "loss", 0.0788327644346282, "L22105"),
              B("history", "val_accuracy", 0.9737, "L22096 (epoch 5)")),
        notes=_MNIST_NOTE),
    Card(
        name="cifar10_cnn", dataset="cifar10", title="ch6 exercise 2: CIFAR-10 convolutional network",
        source="book sol.ch6.ex2_cifar10_cnn (L22107–22256)", builder="ztdl_pipeline.core.vision_models:cifar10_cnn",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.05, fast_floor=0.2,
        book=(B("test", "accuracy", 0.5152, "L22255 val_acc: the book validates on the test set"),
              B("test", "loss", 1.3521, "L22255 val_loss"),
              B("history", "accuracy", 0.4993, "L22255 (epoch 2)")),
        notes="CIFAR-10 is not in the data mirror: offline, raw/cifar10 fails with a DataError unless its "
              "run config points at a copy (url + sha256). The book runs 2 epochs only, so its 0.52 is far "
              "from what the network can reach."),
    Card(
        name="mnist_2500_mlp", dataset="mnist", title="DataCamp: MNIST on 2,500 images",
        source="DataCamp memo dc.mnist_2500 (001:L1245–1330)", builder="ztdl_pipeline.core.vision_models:mnist_2500_mlp",
        loss="categorical_crossentropy", primary=("test", "accuracy"), threshold=0.85, fast_floor=0.5,
        book=(B("history", "val_accuracy", 0.9053, "001:L1327 (epoch 10, 750 held-out images)"),
              B("history", "accuracy", 0.9823, "001:L1327")),
        notes="DataCamp trains on 2,500 MNIST images (1,750 + 750 validation) and prints only the "
              "validation accuracy; we use the first 2,500 training images and also judge the model on the "
              "official 10,000 test images. The memo says its pixels are not rescaled, but its first-epoch "
              "loss (1.6672) is what this network shows on pixels / 255 (1.60–1.65 over three seeds here); "
              "on raw 0–255 values it starts at 17–20 and ends at 0.76–0.84 validation accuracy, so the model "
              "rescales by 1/255 (builder option scale=1.0 for the raw variant). Gate: test accuracy ≥ 0.85 "
              "(DataCamp's 0.9053 on 750 images minus a margin for a 13× larger test set)."),
    Card(
        name="digits_small_fc", dataset="digits", title="ch10 digits: small fully connected network",
        source="book ch10.digits_small_fc (L13438–13726)", builder="ztdl_pipeline.core.vision_models:digits_small_fc",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.03, fast_floor=0.5,
        book=(B("train", "accuracy", 0.9952, "L13722"), B("test", "accuracy", 0.9741, "L13723"))),
    Card(
        name="male_female_cnn", dataset="male_female", title="ch10 exercise: male/female faces CNN",
        source="book sol.ch10.ex1_male_female_cnn (L23408–23747)", builder="ztdl_pipeline.core.vision_models:male_female_cnn",
        loss="binary_crossentropy", primary=("test", "accuracy"), tolerance=0.05, fast_floor=0.5,
        builder_kwargs={"augmentation": {"shift": 0.1, "rotation_degrees": 10, "zoom": 0.2,
                                         "horizontal_flip": True}},
        book=(B("test", "accuracy", 0.809931506849315, "L23627"),
              B("test", "loss", 0.39503416067933383, "L23627"),
              B("history", "accuracy", 0.7938, "L23619 (epoch 3)")),
        notes="The exercise asks for at least 85 % test accuracy; the book's solution reaches 0.81. The "
              "mirror holds 900 of the book's 14,583 pictures (700 train, 200 test): on a 17× smaller "
              "training set the network overfits (600 steps × 3 epochs are 82 passes over 700 pictures) and "
              "stays well below the book, so the gate (the book's 0.81 − 0.05) blocks its export; point "
              "raw/male_female at the book's archive (run config url + sha256) for the full set. Augmentation (shift 0.1, rotation 10°, zoom 0.2, horizontal "
              "flip) is inside the model as Keras preprocessing layers, active only in training; "
              "ImageDataGenerator's shear_range 0.2 is in degrees and changes nothing visible at 64×64, so "
              "it is left out."),
]

