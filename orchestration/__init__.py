"""Orchestration: the pipeline runner and (issue #5) the Dagster code location."""
