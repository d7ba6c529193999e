"""The typed exceptions every face maps once: HTTP status for the API, exit code for the CLI.

Every error names the input field, the offending value and, where one exists, the fix. The JSON shape is
``{"error": {"code", "message", "field", "value", "fix", "suggestions"}}`` everywhere (API bodies, CLI --json).
"""

from __future__ import annotations

from typing import Any


class HccguideError(Exception):
    """Base of every error a user can cause. Subclasses set `code`, `http_status` and `exit_code`."""

    code: str = "error"
    http_status: int = 400
    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        fix: str | None = None,
        suggestions: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.fix = fix
        self.suggestions = list(suggestions or [])

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: {"error": {"code", "message", "field", "value", "fix", "suggestions"}}."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "field": self.field,
                "value": self.value,
                "fix": self.fix,
                "suggestions": self.suggestions,
            }
        }


class InvalidCode(HccguideError):
    """An ICD-10-CM code that is malformed or absent from the code set asked for (HTTP 404)."""

    code = "invalid_code"
    http_status = 404


class UnknownFiscalYear(HccguideError):
    """A fiscal year / code set that the knowledge base does not hold (HTTP 422)."""

    code = "unknown_fiscal_year"
    http_status = 422


class UnknownPaymentYear(HccguideError):
    """A payment year without CMS tables in the knowledge base (HTTP 422)."""

    code = "unknown_payment_year"
    http_status = 422


class UnknownModel(HccguideError):
    """A risk model name the knowledge base does not know (HTTP 422)."""

    code = "unknown_model"
    http_status = 422


class BadDate(HccguideError):
    """A date that cannot be parsed or lies outside every loaded code set or model year (HTTP 422)."""

    code = "bad_date"
    http_status = 422


class BadInput(HccguideError):
    """Any other invalid field value (HTTP 422)."""

    code = "bad_input"
    http_status = 422


class KnowledgeBaseMissing(HccguideError):
    """No knowledge base is built yet, or a source file cannot be found (HTTP 503, exit code 3)."""

    code = "kb_missing"
    http_status = 503
    exit_code = 3


class SourceError(HccguideError):
    """An official source file is missing, unreadable or does not match what it claims to be (exit code 3)."""

    code = "source_error"
    http_status = 500
    exit_code = 3
