"""Observability: alerts, health measurements, SLOs (and, with issue #6, lineage)."""
