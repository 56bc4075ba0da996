"""The Dagster building blocks (what DESIGN.md calls components): asset keys and code versions (base),
raw files and generated data (raw), features and their checks (features), generated run config (config),
family steps (family), models, reports with the one report writer, gated exports, and the ExampleChains
Component (chain) that turns a catalogue module into asset chains. The autoloaded per-domain definitions
are in ztdl_pipeline/defs/; see docs/architecture.md."""
