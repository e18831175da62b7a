"""The alphabets of ids and file names: every id that reaches an S3 key or a DynamoDB key passes these first.

A name like ``../other-org`` can never walk out of its prefix. Kept apart from :mod:`functions.service.tenancy` so
that the key layouts (:mod:`functions.service.layout`, :mod:`functions.service.table`) can check ids without
importing the refs that are built on them.
"""

from __future__ import annotations

import re

from functions.service.errors import InvalidIdentifierError

# The alphabets, as text too: the API's OpenAPI patterns are these, anchored.
ID_REGEX = r"[a-z0-9][a-z0-9-]{0,62}"
FILE_NAME_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_ID = re.compile(ID_REGEX)
_FILE_NAME = re.compile(FILE_NAME_REGEX)
# the ids this service gives SCIM Users and Groups (uuid4 hex); anything else is not one of ours
SCIM_ID = re.compile(r"[0-9a-f]{32}")
MAX_USER_ID_LENGTH = 128


def checked_id(value: object, what: str) -> str:
    """An org, project or job id: lowercase letters, digits and dashes, 1-63 characters."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidIdentifierError(f"{what} must be 1-63 lowercase letters, digits or dashes, got {value!r}")
    return value


def checked_file_name(value: object, what: str = "file name") -> str:
    """A file name inside a job: no slashes, no leading dot, no '..'."""
    if not isinstance(value, str) or not _FILE_NAME.fullmatch(value) or ".." in value:
        raise InvalidIdentifierError(
            f"{what} must be 1-128 characters of letters, digits, '.', '_' or '-' without '..', got {value!r}"
        )
    return value


def checked_user_id(value: object, what: str = "user id") -> str:
    """A user id (a token's ``sub``, a SCIM userName): 1-128 characters, none of ``#``, ``/``, ``\\``, newline.

    It becomes part of a sort key (``USER#{user}``, ``MEMBER#{user}``), so it may not carry the key separator.
    """
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_USER_ID_LENGTH or any(c in value for c in "#/\\\n"):
        raise InvalidIdentifierError(
            f"{what} must be 1-{MAX_USER_ID_LENGTH} characters without '#', '/', '\\' or newlines"
        )
    return value
