"""Uploads for large imports, on both databases: POST /imports (multipart) streams the file to
the uploads folder under a random name and queues an ``import`` job; the job runs and the rows
land; a dry run writes nothing; a bad row fails the job naming the file, row and field; a file
over the limit is refused with 413 (by Content-Length, and while streaming a body without one)
leaving nothing behind; a file whose extension or content is not taken is refused with 415;
only the regulator uploads; the JSON body limit does not apply to uploads.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from openpyxl import Workbook

from mastplan.jobs import runner
from mastplan.jobs.uploads import MAX_UPLOAD_ENV, UploadRefused, max_upload_bytes, receive_upload

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("local_jobs")
HEADER = ("external_id,kind,owner,lon_deg,lat_deg,height_m,mount_positions,max_payload_kg,"
          "available_power_kw,fibre,open_for_sharing")  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def uploads() -> list[str]:
    folder = runner.uploads_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def towers(n: int = 3, prefix: str = "up", bad_row: int | None = None) -> bytes:
    rows = [HEADER]
    for i in range(n):
        lat = "north" if i + 1 == bad_row else "29.557"
        rows.append(f"{prefix}-{i},telecom_tower,china-tower,{106.57 + i * 1e-3},{lat},30,3,300,"
                    "10,yes,true")  # fmt: skip
    return ("\n".join(rows) + "\n").encode()


def upload(client, name: str, content: bytes, **fields):
    data = {"layer": "structures", "dry_run": "false", **fields}
    return client.post(f"{API}/imports", data=data,
                       files={"file": (name, content, "application/octet-stream")})  # fmt: skip


def test_an_uploaded_csv_is_imported_and_its_rows_land(bearer, app, run_jobs):
    reg = bearer("li.reg", write=True)
    r = upload(reg, "Towers 2020 (final).csv", towers(3))
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"{API}/jobs/{job['id']}"
    assert job["kind"] == "import" and job["state"] == "queued"
    params = job["params"]
    assert params["original_name"] == "Towers 2020 (final).csv" and params["layer"] == "structures"
    assert params["dry_run"] is False
    stored = params["file"]
    assert stored != params["original_name"] and stored.endswith(".csv") and len(stored) == 36
    assert uploads() == [stored]  # no partial file left; the client's name is not on disk
    assert (runner.uploads_dir() / stored).read_bytes() == towers(3)

    assert run_jobs(app) == 1
    done = reg.get(f"{API}/jobs/{job['id']}").json()
    assert done["state"] == "done", done["message"]
    summary = done["result"]["summary"]
    assert summary["rows"] == 3 and summary["inserted"] == 3
    assert summary["file"] == "Towers 2020 (final).csv" and str(runner.jobs_dir()) not in str(
        summary
    )
    for i in range(3):
        assert reg.get(f"{API}/structures/up-{i}").status_code == 200


def test_an_xlsx_workbook_is_imported(bearer, app, run_jobs):
    book = Workbook()
    sheet = book.active
    for line in towers(2, prefix="xl").decode().splitlines():
        sheet.append([float(v) if v.replace(".", "").isdigit() else v for v in line.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    reg = bearer("li.reg", write=True)
    r = upload(reg, "towers.xlsx", buffer.getvalue())
    assert r.status_code == 202, r.text
    assert run_jobs(app) == 1
    done = reg.get(f"{API}/jobs/{r.json()['id']}").json()
    assert done["state"] == "done", done["message"]
    assert done["result"]["summary"]["inserted"] == 2
    assert reg.get(f"{API}/structures/xl-1").status_code == 200


def test_a_dry_run_writes_nothing(bearer, app, run_jobs):
    reg = bearer("li.reg", write=True)
    r = upload(reg, "towers.csv", towers(2, prefix="dry"), dry_run="true")
    assert r.status_code == 202, r.text
    assert r.json()["params"]["dry_run"] is True
    assert run_jobs(app) == 1
    done = reg.get(f"{API}/jobs/{r.json()['id']}").json()
    assert done["state"] == "done" and done["result"]["summary"]["dry_run"] is True
    assert done["result"]["summary"]["rows"] == 2
    assert reg.get(f"{API}/structures/dry-0").status_code == 404


def test_a_bad_row_fails_the_job_naming_file_row_and_field_and_writes_nothing(
    bearer, app, run_jobs
):
    reg = bearer("li.reg", write=True)
    r = upload(reg, "towers-march.csv", towers(4, prefix="bad", bad_row=3))
    assert r.status_code == 202, r.text
    assert run_jobs(app) == 1
    failed = reg.get(f"{API}/jobs/{r.json()['id']}").json()
    assert failed["state"] == "failed"
    message = failed["message"]
    assert "nothing written" in message and "towers-march.csv: row 3: field 'lat_deg'" in message
    assert str(runner.jobs_dir()) not in message  # no server path in what users read
    assert reg.get(f"{API}/structures/bad-0").status_code == 404


def test_a_file_over_the_limit_is_refused_and_nothing_is_left(bearer, monkeypatch):
    monkeypatch.setenv(MAX_UPLOAD_ENV, "2000")
    assert max_upload_bytes() == 2000
    reg = bearer("li.reg", write=True)
    big = towers(200)  # ~17 kB
    r = upload(reg, "towers.csv", big)  # announced by Content-Length
    assert r.status_code == 413 and "2,000 bytes" in r.json()["detail"]
    assert uploads() == []

    # without a Content-Length (chunked): refused while streaming, the partial file removed
    boundary = "mastplan-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"layer\"\r\n\r\nstructures"
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"towers.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()  # fmt: skip

    def body():
        yield head
        for i in range(0, len(big), 500):
            yield big[i : i + 500]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = reg.post(f"{API}/imports", content=body(),
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
    assert r.status_code == 413, r.text
    assert "over the upload limit of 2,000 bytes" in r.json()["detail"]
    assert uploads() == []

    monkeypatch.setenv(MAX_UPLOAD_ENV, "not a number")
    assert max_upload_bytes() == 200_000_000


def _receive(*args):
    """``receive_upload`` on an event loop of its own thread (the test runner's thread may
    hold another test's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, receive_upload, *args).result()


def test_the_receiver_stops_reading_at_the_limit(tmp_path):
    """The body is consumed chunk by chunk and left unread past the limit."""
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"t.csv\"\r\n\r\n").encode()  # fmt: skip
    pulled = []

    async def stream():
        yield head
        for i in range(1000):  # 1000 chunks of 1 kB: a 1 MB file
            pulled.append(i)
            yield b"a,b\n" * 256
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    with pytest.raises(UploadRefused) as refused:
        _receive(headers, stream(), tmp_path, 10_000)
    assert refused.value.status == 413
    assert len(pulled) <= 11  # stopped within a chunk of the limit, not at the end
    assert list(tmp_path.iterdir()) == []

    pulled.clear()
    got = _receive(headers, stream(), tmp_path, 2_000_000)
    assert got.size == 1_024_000 and got.original_name == "t.csv" and got.format == "csv"
    assert [p.name for p in tmp_path.iterdir()] == [got.stored_name]


def test_uploads_are_exempt_from_the_json_body_limit(bearer):
    reg = bearer("li.reg", write=True)
    big = towers(15_000, prefix="many")  # ~1.3 MB: over the 1 MB of JSON bodies
    assert len(big) > 1_000_000
    r = upload(reg, "towers.csv", big, dry_run="true")
    assert r.status_code == 202, r.text
    r = reg.post(f"{API}/plans", content=b"{" + b" " * 1_100_000 + b"}",
                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413  # everything else keeps it


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("towers.csv", PNG, "not a text file"),  # a PNG renamed .csv
        ("towers.csv", "名称,高度\n塔,30\n".encode("gb18030"), "not UTF-8 text"),
        ("setup.exe", b"MZ\x90\x00" + bytes(100), "a .exe file is not taken"),
        ("towers", towers(1), "a file without an extension is not taken"),
        ("towers.xlsx", towers(1), "not an .xlsx workbook"),
        ("towers.gpkg", b"PK\x03\x04" + bytes(40), "not a GeoPackage"),
        ("towers.geojson", b"  [1, 2, 3]", "not a GeoJSON object"),
        ("towers.json", PNG, "not a GeoJSON object"),
    ],
)  # fmt: skip
def test_a_file_not_of_a_type_taken_is_refused(bearer, name, content, words):
    r = upload(bearer("li.reg", write=True), name, content)
    assert r.status_code == 415, r.text
    assert words in r.json()["detail"] and ".csv (UTF-8 text)" in r.json()["detail"]
    assert uploads() == []


def test_what_is_taken_by_content(bearer):
    reg = bearer("li.reg", write=True)
    for name, content in (("a.geojson", b'\xef\xbb\xbf\n {"type": "FeatureCollection"}'),
                          ("a.gpkg", b"SQLite format 3\x00" + bytes(100)),
                          ("a.csv", "external_id,名称\nx,塔\n".encode())):  # fmt: skip
        r = upload(reg, name, content, dry_run="true")
        assert r.status_code == 202, (name, r.text)
    assert len(uploads()) == 3


@pytest.mark.parametrize(
    ("fields", "files", "status", "words"),
    [
        ({"layer": "antennas"}, True, 422, "invalid request"),
        ({"layer": "structures", "dry_run": "maybe"}, True, 422, "invalid request"),
        ({"layer": "structures", "format": "gpkg"}, True, 422, "cannot be read as gpkg"),
        ({"layer": "structures", "colour": "red"}, True, 422, "invalid request"),
        ({}, True, 422, "invalid request"),
        ({"layer": "structures"}, False, 422, "no file in the form"),
    ],
)  # fmt: skip
def test_a_form_with_bad_fields_is_refused_and_leaves_nothing(bearer, fields, files, status,
                                                              words):  # fmt: skip
    reg = bearer("li.reg", write=True)
    kwargs = {"files": {"file": ("t.csv", towers(1))}} if files else {
        "files": {"other": (None, "x")}}  # fmt: skip
    r = reg.post(f"{API}/imports", data=fields, **kwargs)
    assert r.status_code == status, r.text
    answer = r.json()
    assert words in answer["detail"] + " ".join(e["msg"] for e in answer.get("errors") or [])
    assert uploads() == []


def test_only_the_regulator_uploads(bearer, login):
    r = upload(login("ma.viewer"), "towers.csv", towers(1))
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    r = upload(bearer("wang.cmcc", write=True), "towers.csv", towers(1))
    assert r.status_code == 403 and "only the regulator" in r.json()["detail"]
    r = upload(bearer("li.reg"), "towers.csv", towers(1))  # a read-only token
    assert r.status_code == 403
    r = upload(login("li.reg", csrf=False), "towers.csv", towers(1))
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = upload(bearer("li.reg", write=True).__class__(bearer("li.reg").app), "t.csv", towers(1))
    assert r.status_code == 401
    r = bearer("li.reg", write=True).post(f"{API}/imports", json={"layer": "structures"})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]
    assert uploads() == []
