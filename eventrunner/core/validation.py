"""Untrusted input (HTTP bodies, socket events) validated into a model; a problem names
the field that is wrong."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Form = TypeVar("Form", bound=BaseModel)


class FormError(ValueError):
    """A submission that cannot be taken; the message names the field."""


def parse(form: type[Form], data: Any) -> Form:
    """The validated form; raises FormError naming the first field that is wrong."""
    if not isinstance(data, dict):
        raise FormError("the body must be a JSON object")
    try:
        return form.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(step) for step in first["loc"]) or "the body"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise FormError(f"{where}: {message}") from None
