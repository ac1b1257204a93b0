"""Errors of the ingestion and the exit codes they map to (documented in docs/ingestion.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INCOMPLETE = 1  # tasks given up, or quarantine share above the threshold
    BAD_CONFIG = 2  # bad settings or command-line input
    AUTH = 3  # 401/403 (bad key, blocked) or 412 from the API
    UNREACHABLE = 4  # the API host cannot be reached
    STORAGE = 5  # the lake or the state store cannot be written (disk full, permissions, lock)
    INTERRUPTED = 130


class IngestError(Exception):
    """Base class: ``str(exc)`` is a one-line message meant for the user."""

    exit_code = ExitCode.INCOMPLETE


class ConfigurationError(IngestError):
    exit_code = ExitCode.BAD_CONFIG


class AuthError(IngestError):
    """The API refused the credentials or the request format: retrying cannot help."""

    exit_code = ExitCode.AUTH


class UnreachableError(IngestError):
    exit_code = ExitCode.UNREACHABLE


class StorageError(IngestError):
    exit_code = ExitCode.STORAGE


class NotFoundError(IngestError):
    """404 for one resource: recorded and skipped, never fatal."""


class RequestFailed(IngestError):
    """A request that kept failing after its retries (the task may be retried or given up)."""


class ClientBug(IngestError):
    """400/405/422: the request itself is wrong; retrying the same request cannot help."""
