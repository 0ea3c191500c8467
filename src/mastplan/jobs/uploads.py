"""Receiving an upload for an ``import`` job: a ``multipart/form-data`` request body streamed to
the uploads folder, never held whole in memory.

* **Size**: at most ``$MASTPLAN_MAX_UPLOAD_BYTES`` (default 200 MB) of file; the body is written
  chunk by chunk and refused (:class:`UploadRefused` 413) the moment the file grows past the
  limit — the partial file is removed. A ``Content-Length`` announcing more is refused before
  anything is read.
* **Type**, by the name's extension *and* by the content: ``.csv`` (UTF-8 text without NUL
  bytes, checked over the whole file), ``.xlsx`` (a zip archive), ``.gpkg`` (an SQLite
  database), ``.geojson``/``.json`` (a JSON object: ``{`` after white space). Anything else is
  refused (415) with a line that says what is taken.
* **Name**: the file is stored under a random name (``<32 hex digits><extension>``); the
  client's name is only kept for display (:attr:`Received.original_name`).
"""

from __future__ import annotations

import codecs
import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from mastplan.errors import MastplanError

__all__ = [
    "ALLOWED_TYPES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ENV",
    "MULTIPART_SLACK",
    "Received",
    "UploadRefused",
    "max_upload_bytes",
    "receive_upload",
]

log = logging.getLogger("mastplan.jobs")

MAX_UPLOAD_ENV = "MASTPLAN_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD_BYTES = 200_000_000
#: What a request may carry beyond the file: the other fields, part headers, boundaries.
MULTIPART_SLACK = 64 * 1024
#: The file's field in the form.
FILE_FIELD = "file"
#: Extension → the import format it is read as.
ALLOWED_TYPES = {".csv": "csv", ".xlsx": "xlsx", ".gpkg": "gpkg", ".geojson": "geojson",
                 ".json": "geojson"}  # fmt: skip
TAKEN = ".csv (UTF-8 text), .xlsx, .gpkg, .geojson or .json"
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 1024
_ZIP = b"PK\x03\x04"
_SQLITE = b"SQLite format 3\x00"
_BOM = codecs.BOM_UTF8
_JSON_SPACE = b" \t\r\n"
_MAX_LEADING_SPACE = 64 * 1024


def max_upload_bytes() -> int:
    """The largest file an upload may carry (``$MASTPLAN_MAX_UPLOAD_BYTES``, default 200 MB)."""
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_UPLOAD_BYTES
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    log.warning("%s=%r is not a positive number of bytes; using %s", MAX_UPLOAD_ENV, raw,
                DEFAULT_MAX_UPLOAD_BYTES)  # fmt: skip
    return DEFAULT_MAX_UPLOAD_BYTES


class UploadRefused(MastplanError):
    """An upload that is not taken: ``status`` 413 (too large), 415 (not a file type taken),
    422 (a form without its file, an empty file), 400 (not a readable multipart body)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Received:
    """A file received: its stored name in the uploads folder, the client's name, its size,
    its import format (by extension) and the form's other fields (as text)."""

    stored_name: str
    original_name: str
    size: int
    format: str
    fields: dict[str, str] = field(default_factory=dict)


class _Sniffer:
    """Checks a file's bytes, as they arrive, against what its extension says it is."""

    def __init__(self, extension: str, shown: str) -> None:
        self.ext = extension
        self.shown = shown
        self.head = b""
        self.decided = False
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict") if extension == ".csv" else None

    def _refuse(self, why: str) -> UploadRefused:
        return UploadRefused(415, f"{self.shown}: {why}; uploads are {TAKEN}")

    def feed(self, data: bytes) -> None:
        if self.utf8 is not None:  # CSV: the whole file is UTF-8 text without NUL bytes
            if b"\x00" in data:
                raise self._refuse("not a text file (it holds NUL bytes)")
            try:
                self.utf8.decode(data)
            except UnicodeDecodeError:
                raise self._refuse("not UTF-8 text") from None
            return
        if self.decided:
            return
        self.head += data[: max(0, _MAX_LEADING_SPACE - len(self.head))]
        self._decide(final=False)

    def _decide(self, *, final: bool) -> None:
        head = self.head
        if self.ext == ".xlsx":
            magic, what = _ZIP, "not an .xlsx workbook (no zip archive)"
        elif self.ext == ".gpkg":
            magic, what = _SQLITE, "not a GeoPackage (no SQLite database)"
        else:
            body = head.removeprefix(_BOM).lstrip(_JSON_SPACE)
            if body:
                if body[:1] != b"{":
                    raise self._refuse("not a GeoJSON object (it does not start with '{')")
                self.decided = True
            elif final or len(head) >= _MAX_LEADING_SPACE:
                raise self._refuse("not a GeoJSON object (no '{' at its start)")
            return
        if len(head) >= len(magic) or final:
            if not head.startswith(magic):
                raise self._refuse(what)
            self.decided = True

    def finish(self, size: int) -> None:
        if size == 0:
            raise UploadRefused(422, f"{self.shown}: the file is empty")
        if self.utf8 is not None:
            try:
                self.utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                raise self._refuse("not UTF-8 text (it ends inside a character)") from None
            return
        if not self.decided:
            self._decide(final=True)


class _Form:
    """The parser's callbacks: the file part goes to disk through ``pending``; the other fields
    are kept (small) in memory."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.fields: dict[str, str] = {}
        self.pending: list[bytes] = []
        self.size = 0
        self.partial: Path | None = None
        self.stored_name: str | None = None
        self.original_name: str | None = None
        self.sniffer: _Sniffer | None = None
        self.handle = None
        self._header_name = b""
        self._header_value = b""
        self._disposition: bytes | None = None
        self._name = ""
        self._data = bytearray()
        self._in_file = False
        self._ended_file = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self._disposition = None
        self._name = ""
        self._data = bytearray()
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition or b"")
        name = options.get(b"name")
        if name is None:
            raise UploadRefused(400, "a form part without a name (Content-Disposition)")
        self._name = _text(name)
        if self._name != FILE_FIELD:
            if b"filename" in options:
                raise UploadRefused(422, f"one file per upload, in the field {FILE_FIELD!r}; "
                                         f"not a file in {self._name!r}")  # fmt: skip
            if len(self.fields) >= _MAX_FIELDS:
                raise UploadRefused(422, "too many form fields")
            return
        if self.stored_name is not None:
            raise UploadRefused(422, "one file per upload")
        original = Path(_text(options.get(b"filename", b"")).replace("\\", "/")).name.strip()
        ext = Path(original).suffix.lower()
        shown = original or "the upload"
        if ext not in ALLOWED_TYPES:
            what = f"a {ext} file" if ext else "a file without an extension"
            raise UploadRefused(415, f"{shown}: {what} is not taken; uploads are {TAKEN}")
        self.original_name = original[:255]
        self.stored_name = f"{secrets.token_hex(16)}{ext}"
        self.partial = self.folder / f"{self.stored_name}.part"
        self.sniffer = _Sniffer(ext, shown)
        self.handle = self.partial.open("xb")
        self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._in_file:
            self.size += len(chunk)
            if self.size > self.limit:
                raise UploadRefused(413, f"the file is over the upload limit of "
                                         f"{self.limit:,} bytes")  # fmt: skip
            self.pending.append(chunk)
        else:
            if len(self._data) + len(chunk) > _MAX_FIELD_BYTES:
                raise UploadRefused(422, f"the form field {self._name!r} is too long")
            self._data.extend(chunk)

    def on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._ended_file = True
        elif self._name:
            if self._name in self.fields:
                raise UploadRefused(422, f"the form field {self._name!r} is given twice")
            try:
                self.fields[self._name] = bytes(self._data).decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRefused(422, f"the form field {self._name!r} is not UTF-8") from None

    def flush(self) -> None:
        """Check and write what arrived of the file (in a worker thread: disk I/O)."""
        data = b"".join(self.pending)
        self.pending.clear()
        if data and self.sniffer is not None and self.handle is not None:
            self.sniffer.feed(data)
            self.handle.write(data)

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)


def _text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def receive_upload(
    headers: Mapping[str, str],
    stream: AsyncIterator[bytes],
    folder: Path,
    limit: int | None = None,
) -> Received:
    """Read a ``multipart/form-data`` body (its ``headers`` and byte ``stream``) and store its
    ``file`` part in ``folder`` under a random name; raise :class:`UploadRefused` (leaving no
    file behind) when it is too large, not a type taken, or not a well-formed form."""
    limit = max_upload_bytes() if limit is None else limit
    kind, options = parse_options_header(headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        sent = kind.decode("latin-1") or "nothing"
        raise UploadRefused(415, f"send the file as multipart/form-data (the field "
                                 f"{FILE_FIELD!r}), not {sent}")  # fmt: skip
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        raise UploadRefused(413, f"the upload is over the limit of {limit:,} bytes")
    folder.mkdir(parents=True, exist_ok=True)
    form = _Form(folder, limit)
    try:
        parser = MultipartParser(options[b"boundary"], form.callbacks())  # type: ignore[arg-type]
        body = 0
        async for chunk in stream:
            body += len(chunk)
            if body > limit + MULTIPART_SLACK:
                raise UploadRefused(413, f"the upload is over the limit of {limit:,} bytes")
            parser.write(chunk)
            if form.pending:
                await anyio.to_thread.run_sync(form.flush)
        parser.finalize()
        if form.pending:
            await anyio.to_thread.run_sync(form.flush)
        if form.stored_name is None or form.partial is None or form.sniffer is None:
            raise UploadRefused(422, f"no file in the form (send it in the field {FILE_FIELD!r})")
        if not form._ended_file:
            raise UploadRefused(400, "the form ends inside the file: not a complete upload")
        form.sniffer.finish(form.size)
        assert form.handle is not None
        form.handle.close()
        form.handle = None
        form.partial.rename(folder / form.stored_name)
        form.partial = None
    except FormParserError as exc:
        form.discard()
        raise UploadRefused(400, f"not a readable multipart/form-data body: {exc}") from None
    except BaseException:
        form.discard()
        raise
    return Received(form.stored_name, form.original_name or form.stored_name, form.size,
                    ALLOWED_TYPES[Path(form.stored_name).suffix], form.fields)  # fmt: skip
