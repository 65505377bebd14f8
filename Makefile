# weft — operator entry points. Every target wraps the `weft` CLI (bin/weft.js).
WEFT := node bin/weft.js
REGION ?= monaco
# the suite's reporters: the usual output, the JSON report and errors outside tests (scripts/vitest-errors.mjs)
REPORTERS := --reporter=default --reporter=json --reporter=./scripts/vitest-errors.mjs

.PHONY: setup demo test typecheck format tiles serve bench bench-tiles bench-base bench-events bench-analytics bench-activity bench-serve bench-live bench-viewer analytics clean

setup:
	@bash scripts/setup.sh

## make demo: build the demo region's tiles and show where they are
demo: setup
	@bash scripts/demo.sh

## make test: install what is missing, type-check, run the whole suite
test: setup
	npx tsc --noEmit -p tsconfig.json
	npx tsc --noEmit -p viewer/tsconfig.json
	@mkdir -p .cache
	@rm -f .cache/vitest*.json
	@# the Redis restart tests (*restart.test.ts) run alone afterwards: they stop the Redis server the others use
	WEFT_VITEST_ERRORS=.cache/vitest-errors.json npx vitest run --exclude '**/*restart.test.ts' $(REPORTERS) \
	  --outputFile.json=.cache/vitest.json; \
	  s1=$$?; \
	  WEFT_VITEST_ERRORS=.cache/vitest-restart-errors.json npx vitest run restart.test $(REPORTERS) \
	  --outputFile.json=.cache/vitest-restart.json; \
	  s2=$$?; node scripts/test-summary.mjs .cache/vitest.json .cache/vitest-restart.json --exit $$s1,$$s2; \
	  if [ $$s1 -ne 0 ] || [ $$s2 -ne 0 ]; then exit 1; fi

typecheck: setup
	npx tsc --noEmit -p tsconfig.json
	npx tsc --noEmit -p viewer/tsconfig.json

format:
	npx prettier --write .

## make tiles REGION=monaco: the region's base map → dist/$(REGION)/base.pmtiles
tiles: setup
	$(WEFT) build base --region $(REGION)

## make bench: every benchmark, each side by side with its peer
bench: bench-tiles bench-base bench-events bench-analytics bench-activity bench-serve bench-live bench-viewer

bench-tiles: setup
	@bash scripts/setup.sh --bench
	npx tsx bench/tiles.ts

## make bench-base: our base-map build vs tilemaker 2.2 on Monaco, Liechtenstein and Andorra (ratio table)
bench-base: setup
	@bash scripts/setup.sh --bench
	npx tsx bench/base.ts

## make bench-events: appends/s with projections vs a raw INSERT baseline, and a 1 M-event rebuild (local PostgreSQL)
bench-events: setup
	npx tsx bench/events.ts

## make bench-serve: our tiles and .pmtiles Range vs tileserver-gl-light and nginx on one archive (wrk, 64 connections)
bench-serve: setup
	@bash scripts/setup.sh --bench
	npx tsx bench/serve.ts

## make bench-live: live fan-out — 1,000 WebSocket clients, 100 writes/s for 30 s (PostgreSQL, Redis): latency, losses, idle RSS
bench-live: setup
	npx tsx bench/live.ts

## make analytics: events and projections → analytics/ as Parquet + weft.duckdb views (incremental; DATABASE_URL or .data/)
analytics: setup
	$(WEFT) analytics export

## make bench-activity: the activity build over 100,000 nodes and 500,000 threads (local PostgreSQL): < 30 s, < 1 GiB
bench-activity: setup
	@bash scripts/setup.sh --bench
	npx tsx bench/activity.ts

## make bench-analytics: analytics export of 1 M events (local PostgreSQL): full, incremental, re-export; time and sizes
bench-analytics: setup
	npx tsx bench/analytics.ts

## make serve: serve the prod releases, the write API, live deltas and the viewer (WEFT_PORT, default 8080)
serve: setup
	$(WEFT) serve

## make bench-viewer: the viewer's first-load payload in Chromium (phone viewport): light path (< 120 KB) vs full
bench-viewer: setup
	npx tsx bench/viewer.ts

clean:
	rm -rf build dist .cache bench/out
