"""Entity tags of the mutable resources, and the ``If-Match`` that names one of their versions.

Every single mutable resource answers a GET with a weak ``ETag`` naming the object and its
version (the row's ``version`` counter, which every write bumps)::

    W/"r:<kind>:<key>:v<version>"      e.g. W/"r:structure:T1:v3", W/"r:task:key-1-2:v5"
    W/"r<id>v<version>"                a sharing request, e.g. W/"r12v4" (its historic form)

``<key>`` is the key in the resource's address, percent-encoded (so a tag is plain ASCII and
never holds a quote). Clients treat the tag as opaque: they echo it in ``If-Match`` on a write,
and the write happens only if the object is still at that version — checked under the row lock
inside the write transaction — else 412. A tag of another object, or one that is not a tag, is
412 too; no ``If-Match`` (or ``*``) writes whatever the version.
"""

from __future__ import annotations

import re
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import Header, HTTPException, Response

__all__ = ["ETAG_KINDS", "IfMatch", "etag", "if_match", "set_etag"]

#: The ``If-Match`` header of a write: the ``ETag`` of the version the write is meant for.
IfMatch = Annotated[str | None, Header(max_length=1000)]

#: The kinds of tagged resources and the object names used in messages.
ETAG_KINDS: Final = {
    "request": "sharing request",
    "case": "sharing case",
    "structure": "structure",
    "site": "site",
    "task": "task",
    "meeting": "meeting",
    "scenario": "scenario",
    "enterprise": "enterprise",
}
#: Sharing requests keep the tag they had before the other kinds got theirs (clients cache it).
_LEGACY: Final = frozenset({"request"})
_VERSION = re.compile(r"[0-9]{1,18}", re.ASCII)


def _stem(kind: str, key: object) -> str:
    if kind not in ETAG_KINDS:
        raise ValueError(f"no entity tags for {kind!r}")
    text = quote(str(key), safe="-._~")
    return f"r{text}v" if kind in _LEGACY else f"r:{kind}:{text}:v"


def etag(kind: str, key: object, version: int) -> str:
    """The weak entity tag of version ``version`` of the ``kind`` object ``key``."""
    return f'W/"{_stem(kind, key)}{int(version)}"'


def if_match(header: str | None, kind: str, key: object) -> int | None:
    """The version an ``If-Match`` header names for the ``kind`` object ``key``: ``None``
    without a header or with ``*``; 412 when it names another object or is not a tag."""
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/")
    stem = _stem(kind, key)
    if len(tag) >= 2 and tag[0] == tag[-1] == '"' and tag[1:-1].startswith(stem):
        version = tag[1 + len(stem) : -1]
        if _VERSION.fullmatch(version):
            return int(version)
    what = ETAG_KINDS[kind]
    raise HTTPException(412, f"If-Match does not name a version of this {what}")


def set_etag(response: Response, kind: str, key: object, version: int) -> None:
    """Send the object's ``ETag`` with ``response``."""
    response.headers["ETag"] = etag(kind, key, version)
