"""ch5 exercise 4 (L21856–21960): the wines 8-5-2-3 network of exercise 3 trained with the book's three callbacks.

ModelCheckpoint keeps the best model by validation loss, EarlyStopping ends training once validation loss stops
improving, and TensorBoard records every epoch. TensorBoard here is the project's own per-epoch hook (the Run's
`on_epoch_end`, core/tracking.EpochLog), which writes the scalars where `make tensorboard` finds them, instead of
Keras' callback and the book's /tmp folder. The book prints no number: the report measures when training stopped,
which epoch was best, and that the checkpoint holds that epoch's model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ztdl_pipeline.core.chapter import Chapter, Run

CHECKPOINT = "best.keras"  # Keras 3 saves a whole model as .keras (the book's weights.hdf5 was Keras 2's whole model)


def stopping_summary(val_loss: Sequence[float], epochs: int, patience: int) -> dict[str, float]:
    """Which epoch was best (lowest validation loss, the first on ties, as ModelCheckpoint keeps it), how many ran,
    and whether EarlyStopping ended training before `epochs` (then it ran exactly `patience` epochs past the best)."""
    best = min(range(len(val_loss)), key=lambda i: (val_loss[i], i))
    ran = len(val_loss)
    return {"epochs_run": float(ran), "best_epoch": float(best + 1), "best_val_loss": float(val_loss[best]),
            "stopped_early": float(ran < epochs), "epochs_past_best": float(ran - best - 1), "patience": float(patience)}


def callbacks_exercise(data, *, card, run: Run, learning_rate: float, epochs: int, batch_size: int, patience: int,
                       min_delta: float, seed: int, book: Sequence[Any] = ()) -> Chapter:
    import keras

    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.features import scaling_vectors, xy
    from ztdl_pipeline.core.refs import resolve
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.tabular import view
    from ztdl_pipeline.core.training import _EpochCallback, compile_model

    frame = view(data, card)
    (x, y), (x_test, y_test) = (xy(frame, split, one_hot_target=card.one_hot_target) for split in ("train", "test"))
    folder = Path(run.files_dir or ".")
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = folder / CHECKPOINT
    if run.seed_fn:
        run.seed_fn(seed)
    scaling = scaling_vectors(frame.attrs) if frame.attrs["scaling"] else None
    model = compile_model(resolve(card.builder)(x.shape[1], scaling, **card.builder_kwargs),
                          keras.optimizers.RMSprop(learning_rate=learning_rate), card.loss, ["accuracy"],
                          jit_compile=run.jit_compile)
    callbacks = [keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss", save_best_only=True),
                 keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=min_delta, patience=patience,
                                               mode="auto")]
    if run.on_epoch_end is not None:
        callbacks.append(_EpochCallback(run.on_epoch_end, epochs))  # the hook every fit of the project calls
    # the book validates on its test split (validation_data=(X_test, y_test)), so the checkpoint is chosen on it
    history = model.fit(x, y, validation_data=(x_test, y_test), epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=callbacks).history
    summary = stopping_summary(history["val_loss"], epochs, patience)
    best = keras.models.load_model(checkpoint)
    best_loss, best_accuracy = best.evaluate(x_test, y_test, verbose=0, batch_size=4096)
    last_loss, last_accuracy = model.evaluate(x_test, y_test, verbose=0, batch_size=4096)
    tensorboard = getattr(getattr(run.on_epoch_end, "tensorboard", None), "folder", None)
    result = {"profile": run.profile, "training": summary,
              "checkpoint": {"test_loss": float(best_loss), "test_accuracy": float(best_accuracy),
                             "path": str(checkpoint)},
              "last": {"test_loss": float(last_loss), "test_accuracy": float(last_accuracy)},
              "history": {k: [float(v) for v in values] for k, values in history.items()},
              "tensorboard": str(tensorboard) if tensorboard else None}
    run.log(f"ran {summary['epochs_run']:.0f} of {epochs} epochs, best epoch {summary['best_epoch']:.0f} "
            f"(val_loss {summary['best_val_loss']:.4f}); checkpoint {checkpoint}")
    stopped = (f"EarlyStopping ended training after epoch {summary['epochs_run']:.0f} of {epochs}: validation loss "
               f"had not improved for {patience} epoch(s) after epoch {summary['best_epoch']:.0f}."
               if summary["stopped_early"] else f"Training ran all {epochs} epochs: validation loss kept improving "
                                                f"within the patience of {patience}.")
    opened = (f"`{tensorboard}`: `make tensorboard` serves it (the profile's tensorboard/ folder, this report's runs "
              f"under `{Path(tensorboard).parent.parent.name}/`)." if tensorboard else
              "not written in this run (no per-epoch hook was given).")
    sections = [
        ("What the callbacks did", stopped + f" ModelCheckpoint kept epoch {summary['best_epoch']:.0f}'s model: "
                                             "reloaded from the file, it scores the best validation loss."),
        ("Ours (the book prints no number)", markdown_table(
            ["measured", "value"],
            [["epochs run", int(summary["epochs_run"])], ["best epoch (lowest val_loss)", int(summary["best_epoch"])],
             ["best val_loss", summary["best_val_loss"]],
             ["checkpoint reloaded: test loss / accuracy", f"{best_loss:.4f} / {best_accuracy:.4f}"],
             ["last epoch's model: test loss / accuracy", f"{last_loss:.4f} / {last_accuracy:.4f}"]])),
        ("Files", f"Checkpoint: `{checkpoint}` (`keras.models.load_model` opens it). TensorBoard logs: {opened}"),
        ("Setup", f"Profile {run.profile}: {card.name}'s network (Input → 8 → 5 → 2 → 3, functional API), RMSprop at "
                  f"{learning_rate}, batch {batch_size}, at most {epochs} epochs, validation on the 30 % test split "
                  f"as the book; EarlyStopping(val_loss, min_delta={min_delta}, patience={patience})."),
        ("Source", "book sol.ch5.ex4_callbacks (L21856–21960)"),
    ]
    images = {"learning_curves": plots.learning_curves(history, "ch5 ex4: wines with checkpoint and early stopping")}
    numbers = {"epochs_run": summary["epochs_run"], "best_epoch": summary["best_epoch"],
               "checkpoint_test_loss": float(best_loss)}
    return Chapter("ch5 exercise 4: callbacks", sections, images, result, numbers)
