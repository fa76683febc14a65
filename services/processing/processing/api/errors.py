"""Use-case errors as HTTP answers: 404, 409, 422 with the fields named."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask_smorest import abort

from processing.service import Conflict, InvalidData, NotFound


@contextmanager
def answering() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        abort(404, message=str(exc))
    except Conflict as exc:
        abort(409, message=str(exc))
    except InvalidData as exc:
        abort(422, message="Dữ liệu không hợp lệ.", errors={"json": exc.errors})


def answered(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with answering():
        return call(*args, **kwargs)


def invalid(field: str, message: str) -> None:
    """422 for one field of the JSON body."""
    abort(422, message="Dữ liệu không hợp lệ.", errors={"json": {field: [message]}})
