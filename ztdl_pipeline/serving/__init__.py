"""Downstream consumption of the exported SavedModels.

- `ztdl_pipeline.serving.registry`: list exported models and versions, read a model's manifest
  (registry.json), load the current or a given version with `tf.saved_model.load`.
- `ztdl_pipeline.serving.server`: `ztdl-serve`, a REST server speaking TF Serving's REST API for
  every model under the export folder (status, metadata, :predict), picking up new versions live.
- `ztdl_pipeline.serving.client`: `predict(url, model, rows)` and friends, for ztdl-serve or TF Serving.

Nothing here is imported by the code location; TensorFlow is imported only where a model is loaded.
"""
