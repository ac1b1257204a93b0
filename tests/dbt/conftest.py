"""The dbt tests share the session-wide pipeline build ``built`` from tests/conftest.py."""
