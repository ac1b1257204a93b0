"""Importable job factories: ``reconstructable`` needs a module-level function in child processes."""

from dagster import JobDefinition


def daily_pipeline() -> JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("daily_pipeline")
