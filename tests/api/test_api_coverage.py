"""Coverage runs as resources, on both databases: start one (202 + Location), run it with the
worker, read its statistics and its RSRP overlay (warped to Web Mercator: a site's pixel is in
the strongest class, the corners outside the area transparent), who sees what (another operator:
404 on the run, its overlay and its files), pages, refusals; the colouring as a pure function.

Runs are kept small: one key area, 100 m pixels, seeded synthetic terrain.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from matplotlib import image as mpl_image
from pyproj import Transformer

from mastplan.jobs import runner
from mastplan.radio.overlay import RSRP_CLASSES, classify_rsrp, legend, rsrp_class_index
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.queries import sectors_in_bbox

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("local_jobs")
AREA = "2019-jiefangbei-cbd"
RUN = {"area": AREA, "resolution_m": 100, "synthetic_terrain_seed": 7}


def start(client, body: dict) -> dict:
    r = client.post(f"{API}/coverage-runs", json=body)
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"{API}/coverage-runs/{r.json()['id']}"
    return r.json()


# --- the colouring, pure ------------------------------------------------------------------------


def test_rsrp_classes_colour_cells_and_leave_no_value_transparent():
    rsrp = np.array([[-60.0, -85.0, -85.01, -95.0], [-105.0, -115.0, -115.01, np.nan],
                     [-200.0, np.inf, -90.0, -100.0]])  # fmt: skip
    index = rsrp_class_index(rsrp)
    assert index.tolist() == [[0, 0, 1, 1], [2, 3, 4, -1], [4, -1, 1, 2]]
    rgba = classify_rsrp(rsrp)
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 0]) == (*RSRP_CLASSES[0].rgb(), 255)
    assert tuple(rgba[1, 2]) == (*RSRP_CLASSES[4].rgb(), 255)
    assert tuple(rgba[1, 3]) == (0, 0, 0, 0) and tuple(rgba[2, 1]) == (0, 0, 0, 0)
    valid = np.ones_like(rsrp, dtype=bool)
    valid[0, 0] = False  # outside the area
    assert tuple(classify_rsrp(rsrp, valid)[0, 0]) == (0, 0, 0, 0)
    assert classify_rsrp(rsrp, alpha=128)[0, 1, 3] == 128
    with pytest.raises(ValueError, match="valid mask"):
        classify_rsrp(rsrp, valid[:1])
    # every value is in one class: the classes tile the line
    entries = legend()
    assert [e["colour"] for e in entries] == [c.colour for c in RSRP_CLASSES]
    assert entries[0]["from_dbm"] == -85 and entries[0]["to_dbm"] is None
    assert entries[-1]["from_dbm"] is None and entries[-1]["to_dbm"] == -115
    for upper, lower in itertools.pairwise(entries):
        assert upper["from_dbm"] == lower["to_dbm"]
        assert upper["label_zh"] and upper["label_en"].endswith("dBm)")


# --- a run, end to end --------------------------------------------------------------------------


def _sites_in_area(url: str, bounds) -> list[tuple[str, float, float]]:
    """The on-air NR sites with an azimuth inside ``bounds`` (what the run predicted)."""
    (south, west), (north, east) = bounds
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            frame = sectors_in_bbox(s, (west, south, east, north))
    finally:
        engine.dispose()
    frame = frame[(frame["rat"] == "nr") & frame["azimuth_deg"].notna()]
    frame = frame.drop_duplicates("site")
    return list(zip(frame["site"], frame["lon_deg"].astype(float), frame["lat_deg"].astype(float),
                    strict=True))  # fmt: skip


def _pixel(png: np.ndarray, bounds, lon: float, lat: float) -> tuple[int, int] | None:
    """The (row, col) of a WGS84 point in an overlay laid at ``bounds`` in Web Mercator."""
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    (south, west), (north, east) = bounds
    x0, y0 = to_merc.transform(west, south)
    x1, y1 = to_merc.transform(east, north)
    x, y = to_merc.transform(lon, lat)
    h, w = png.shape[:2]
    col = int((x - x0) / (x1 - x0) * w)
    row = int((y1 - y) / (y1 - y0) * h)
    return (row, col) if 0 <= row < h and 0 <= col < w else None


def test_a_coverage_run_gives_statistics_and_an_overlay_that_lines_up(bearer, app, api_url,
                                                                     login, run_jobs):  # fmt: skip
    reg = bearer("li.reg", write=True)
    run = start(reg, {**RUN, "as_of": None, "record": False})
    assert run["state"] == "queued" and run["area"] == AREA and run["overlay"] is None
    assert run["statistics"] is None and run["submitted_by"] == "li.reg"
    rid = run["id"]
    r = reg.get(f"{API}/coverage-runs/{rid}/overlay.png")
    assert r.status_code == 404 and "queued" in r.json()["detail"]

    assert run_jobs(app) == 1
    done = reg.get(f"{API}/coverage-runs/{rid}").json()
    assert done["state"] == "done", done["message"]
    assert done["error"] is None and done["finished_at"] and done["progress"] == 1.0
    assert 0 <= done["statistics"]["covered_share"] <= 1
    overlay = done["overlay"]
    assert overlay["url"] == f"{API}/coverage-runs/{rid}/overlay.png"
    assert [e["colour"] for e in overlay["legend"]] == [c.colour for c in RSRP_CLASSES]
    (south, west), (north, east) = overlay["bounds"]
    assert 106.4 < west < east < 106.7 and 29.4 < south < north < 29.7

    r = reg.get(overlay["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    png = (mpl_image.imread(io.BytesIO(r.content)) * 255).round().astype(np.uint8)
    assert png.ndim == 3 and png.shape[2] == 4
    files = reg.get(f"{API}/jobs/{rid}").json()["files"]
    assert {"overlay.png", "overlay.json", "rsrp_dbm.tif", "stats.json"} <= set(files)

    # the warp: a site inside the area sits on a pixel of the strongest class
    strongest = (*RSRP_CLASSES[0].rgb(), 255)
    on_sites = [p for _, lon, lat in _sites_in_area(api_url, overlay["bounds"])
                if (p := _pixel(png, overlay["bounds"], lon, lat)) is not None
                and png[p][3] == 255]  # fmt: skip
    assert on_sites, "no site inside the overlay"
    assert all(tuple(png[p]) == strongest for p in on_sites), [tuple(png[p]) for p in on_sites]
    # the corners lie outside the area: transparent
    for row, col in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert png[row, col, 3] == 0
    assert (png[..., 3] == 255).sum() > 0.2 * png[..., 3].size  # the area itself is drawn

    # who sees it: the regulator's organisation only (and the regulator sees all)
    cmcc = bearer("wang.cmcc")
    for path in (f"/coverage-runs/{rid}", f"/coverage-runs/{rid}/overlay.png",
                 f"/jobs/{rid}/files/overlay.png", f"/jobs/{rid}"):  # fmt: skip
        r = cmcc.get(f"{API}{path}")
        assert r.status_code == 404, (path, r.text)
    assert cmcc.get(f"{API}/coverage-runs/{rid}").json()["detail"] == f"no coverage run {rid}"
    assert rid not in [i["id"] for i in cmcc.get(f"{API}/coverage-runs").json()["items"]]
    assert rid in [i["id"] for i in reg.get(f"{API}/coverage-runs").json()["items"]]


def test_an_operators_run_is_its_own_and_the_list_pages(bearer, login):
    cmcc, unicom = bearer("wang.cmcc", write=True), bearer("sun.unicom", write=True)
    ids = [start(cmcc, {**RUN, "operators": ["china-mobile"], "as_of": "2020-06-30"})["id"]
           for _ in range(3)]  # fmt: skip
    plan = cmcc.post(f"{API}/plans", json={"area": AREA}).json()["id"]
    page = cmcc.get(f"{API}/coverage-runs", params={"limit": 2}).json()
    assert [i["id"] for i in page["items"]] == ids[:0:-1] and page["next_cursor"] == ids[1]
    rest = cmcc.get(f"{API}/coverage-runs", params={"cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    first = rest["items"][0]
    assert first["as_of"] == "2020-06-30" and first["submitted_by"] == "wang.cmcc"
    assert unicom.get(f"{API}/coverage-runs").json()["items"] == []
    # a viewer of the organisation sees them, may not start one
    viewer = login("ma.viewer")
    assert viewer.get(f"{API}/coverage-runs/{ids[0]}").status_code == 200
    r = viewer.post(f"{API}/coverage-runs", json=RUN)
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    # a plan is no coverage run
    r = cmcc.get(f"{API}/coverage-runs/{plan}")
    assert r.status_code == 404 and r.json()["detail"] == f"no coverage run {plan}"


@pytest.mark.parametrize(
    ("who", "body", "status", "words"),
    [
        ("wang.cmcc", {"area": "nowhere"}, 400, "params.area"),
        ("wang.cmcc", {**RUN, "record": True}, 403, "only the regulator"),
        ("wang.cmcc", {**RUN, "resolution_m": 1}, 422, "invalid request"),
        ("wang.cmcc", {**RUN, "operators": ["acme"]}, 422, "invalid request"),
        ("wang.cmcc", {**RUN, "as_of": "2020-02-30"}, 422, "invalid request"),
        ("wang.cmcc", {**RUN, "halo_m": 10}, 422, "invalid request"),
        ("wang.cmcc", {"resolution_m": 100}, 422, "invalid request"),
    ],
)  # fmt: skip
def test_starting_a_run_refuses_bad_bodies_and_roles(bearer, who, body, status, words):
    r = bearer(who, write=True).post(f"{API}/coverage-runs", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_a_failed_run_says_why(bearer, app, monkeypatch, run_jobs):
    def broken(ctx):
        raise runner.MastplanError("no on-air sectors near the area")

    monkeypatch.setitem(runner.RUNNERS, "coverage", broken)
    cmcc = bearer("wang.cmcc", write=True)
    rid = start(cmcc, RUN)["id"]
    assert run_jobs(app) == 1
    failed = cmcc.get(f"{API}/coverage-runs/{rid}").json()
    assert failed["state"] == "failed" and failed["error"] == "no on-air sectors near the area"
    assert failed["overlay"] is None and failed["statistics"] is None
    assert cmcc.get(f"{API}/coverage-runs/{rid}/overlay.png").status_code == 404
