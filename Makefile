# weft — operator entry points. Every target wraps the `weft` CLI (bin/weft.js).
WEFT := node bin/weft.js
REGION ?= monaco

.PHONY: setup demo test typecheck format tiles serve bench bench-tiles bench-base bench-events analytics clean

setup:
	@bash scripts/setup.sh

## make demo: build the demo region's tiles and show where they are
demo: setup
	@bash scripts/demo.sh

## make test: install what is missing, type-check, run the whole suite
test: setup
	npx tsc --noEmit -p tsconfig.json
	@mkdir -p .cache
	npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest.json; \
	  status=$$?; node scripts/test-summary.mjs .cache/vitest.json; exit $$status

typecheck: setup
	npx tsc --noEmit -p tsconfig.json

format:
	npx prettier --write .

## make tiles REGION=monaco: the region's base map → dist/$(REGION)/base.pmtiles
tiles: setup
	$(WEFT) build base --region $(REGION)

## make bench: every benchmark, each side by side with its peer
bench: bench-tiles bench-base bench-events

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

clean:
	rm -rf build dist .cache bench/out
