# The two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= mastplan.db
OUT ?= out
#: The password `make demo` gives its demo users (a local demo database only).
DEMO_PASSWORD ?= mastplan-demo

.PHONY: demo test lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

## demo: build the Chongqing default data set into a SQLite file, show where it stands, and
##       predict the 5G coverage of the 2019 key areas, plan them (greenfield), list 多杆合一 clusters
##       run sharing requests through the workflow (users, approval, a fee case, audit check),
##       snapshot the KPIs and write the bilingual progress report
demo: $(VENV)/.installed
	scripts/ensure-debian-packages.sh fonts-wqy-microhei fonts-noto-cjk libharfbuzz-subset0  # Chinese in maps and reports
	scripts/build-web.sh
	$(BIN)/mastplan init --database $(DB)
	$(BIN)/mastplan load chongqing --database $(DB)
	$(BIN)/mastplan status --database $(DB)
	rm -f $(OUT)/chongqing.gpkg
	for layer in districts key_areas structures sites; do \
	  $(BIN)/mastplan export --database $(DB) --layer $$layer --format gpkg --out $(OUT)/chongqing.gpkg || exit 1; \
	done
	$(BIN)/mastplan export --database $(DB) --layer key_areas --format geojson --out $(OUT)/key_areas.geojson
	$(BIN)/mastplan coverage --database $(DB) --area phase:2019 --out $(OUT)/coverage-2019
	$(BIN)/mastplan plan --database $(DB) --area phase:2019 --greenfield --solver auto --time-limit-s 20 --resolution-m 50 --no-record --out $(OUT)/plan-2019
	$(BIN)/mastplan consolidate --database $(DB) --area phase:2019 --out $(OUT)/consolidation-2019
	scripts/demo-sharing.sh $(BIN) $(DB)
	$(BIN)/mastplan kpi snapshot --database $(DB)
	$(BIN)/mastplan report --database $(DB) --lang zh --lang en --out $(OUT)/report
	for u in demo.regulator demo.cmcc demo.tower demo.lights; do \
	  echo "$(DEMO_PASSWORD)" | $(BIN)/mastplan user passwd $$u --password-stdin --as demo --database $(DB) || exit 1; \
	done
	@echo
	@echo "Outputs:"
	@echo "  registry (SQLite):          $(abspath $(DB))"
	@echo "  all layers for QGIS (GPKG): $(abspath $(OUT)/chongqing.gpkg)"
	@echo "  key areas (GeoJSON):        $(abspath $(OUT)/key_areas.geojson)"
	@echo "  coverage of the 2019 key areas (maps, GeoTIFFs, stats.json):"
	@echo "                              $(abspath $(OUT)/coverage-2019)/rsrp_dbm.png, sinr_db.png"
	@echo "  site plan of the 2019 key areas (greenfield, share-first, MILP gaps): $(abspath $(OUT)/plan-2019)/sites.csv, plan.json"
	@echo "  多杆合一 clusters of the 2019 key areas: $(abspath $(OUT)/consolidation-2019)/clusters.csv"
	@echo "  sharing requests and cases: $(BIN)/mastplan sharing list --as demo.regulator --database $(DB)"
	@echo "  progress report (中文, English; HTML and PDF): $(abspath $(OUT)/report)/report-zh.pdf, report-en.pdf"
	@echo "  web UI and API (this laptop only): $(BIN)/mastplan serve --insecure-cookies --database $(DB)"
	@echo "      then http://127.0.0.1:8000/ as demo.regulator, demo.cmcc, demo.tower or demo.lights,"
	@echo "      password $(DEMO_PASSWORD) (demo users only; API docs at /api/v1/docs)"

## test: the whole suite on SQLite and on a throw-away PostgreSQL + PostGIS, then ruff
test: $(VENV)/.installed
	scripts/ensure-debian-packages.sh fonts-noto-cjk libharfbuzz-subset0 tesseract-ocr tesseract-ocr-chi-sim chromium  # reports: CJK font, fast PDF font subsetting, OCR check; browser tests
	scripts/build-web.sh  # the UI bundle (npm registry), for the browser tests
	scripts/test-postgres.sh $(BIN)/python -m pytest
	$(BIN)/ruff check src tests benchmarks scripts

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

clean:
	rm -rf $(VENV) $(OUT) $(DB) $(DB)-wal $(DB)-shm .pytest_cache .ruff_cache
