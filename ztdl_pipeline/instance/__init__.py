"""The Dagster instance settings of this project (dagster.yaml), copied to $DAGSTER_HOME by the Makefile."""
