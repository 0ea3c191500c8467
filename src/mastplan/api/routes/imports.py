"""/api/v1/imports: upload a large structures or sites file and queue its ``import`` job.

The body is ``multipart/form-data`` — ``file`` (the upload), ``layer`` (``structures`` or
``sites``), ``dry_run`` (``true``/``false``), optionally ``format`` — streamed to the jobs'
uploads folder under a random name (:mod:`mastplan.jobs.uploads`: size limit
``$MASTPLAN_MAX_UPLOAD_BYTES``, 413 the moment it is passed; type by extension and content, 415).
The answer is the queued job (``202``, ``Location: /api/v1/jobs/{id}``), as ``POST /jobs`` gives
it; its state, progress and outcome are the job's. Who may: who may submit an ``import`` job
(the regulator); anyone else is refused before the body is read.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool

from mastplan.api.deps import DB, Authed
from mastplan.api.routes.jobs import REFUSED, JobOut, _jobs_dir, _one
from mastplan.api.schemas import ERRORS, location, problem
from mastplan.jobs.uploads import (
    ALLOWED_TYPES,
    FILE_FIELD,
    UploadRefused,
    max_upload_bytes,
    receive_upload,
)

router = APIRouter(prefix="/imports", tags=["jobs"], responses=ERRORS)

FORMATS = ("csv", "geojson", "gpkg", "opencellid", "xlsx")
#: The formats a file of each type may be read as.
READ_AS = {"csv": ("csv", "opencellid"), "xlsx": ("xlsx",), "gpkg": ("gpkg",),
           "geojson": ("geojson",)}  # fmt: skip


class ImportForm(BaseModel):
    """The form's fields besides the file."""

    model_config = ConfigDict(extra="forbid")

    layer: Literal["structures", "sites"]
    dry_run: bool = False
    format: Literal["csv", "geojson", "gpkg", "opencellid", "xlsx"] | None = None


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD, "layer"],
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary",
                                     "description": "The file: " + ", ".join(ALLOWED_TYPES)},
                        "layer": {"type": "string", "enum": ["structures", "sites"]},
                        "dry_run": {"type": "boolean", "default": False,
                                    "description": "Validate and count, write nothing."},
                        "format": {"type": "string", "enum": list(FORMATS),
                                   "description": "Default: from the extension."},
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
}  # fmt: skip

UPLOAD_ERRORS = {
    **REFUSED,
    **problem(413, "the file is over the upload limit ($MASTPLAN_MAX_UPLOAD_BYTES)"),
    **problem(415, "not a file type taken (by extension or content), or not multipart"),
}


def _invalid(loc: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", loc), "msg": msg, "type": "value_error"}])


@router.post("", response_model=JobOut, status_code=202, responses=UPLOAD_ERRORS,
             openapi_extra=UPLOAD_BODY)  # fmt: skip
async def upload_import_endpoint(request: Request, response: Response, who: Authed,
                                 session: DB) -> JobOut:  # fmt: skip
    """Upload a structures or sites file (multipart/form-data: ``file``, ``layer``,
    ``dry_run``, ``format``) and queue its import; the answer is the queued job."""
    from mastplan.jobs.runner import uploads_dir
    from mastplan.jobs.service import may_import, submit

    await run_in_threadpool(may_import, session, who.name)  # refused before the body is read
    folder = uploads_dir(_jobs_dir(request))
    try:
        received = await receive_upload(request.headers, request.stream(), folder,
                                        max_upload_bytes())  # fmt: skip
    except UploadRefused as exc:
        raise HTTPException(exc.status, str(exc)) from None
    stored = folder / received.stored_name
    try:
        try:
            form = ImportForm.model_validate(received.fields)
        except ValidationError as exc:
            raise RequestValidationError([
                {"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ]) from None  # fmt: skip
        if form.format is not None and form.format not in READ_AS[received.format]:
            raise _invalid("format", f"a {received.format} file cannot be read as {form.format}")
        params = {"file": received.stored_name, "original_name": received.original_name,
                  "layer": form.layer, "dry_run": form.dry_run, "format": form.format}  # fmt: skip
        job = await run_in_threadpool(submit, session, who.name, "import", params)
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = location("jobs", job.id)
    return await run_in_threadpool(_one, session, job)
