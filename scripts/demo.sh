#!/usr/bin/env bash
# `make demo`: builds the demo region's base map and shows where it is; later stages (activity, publish, serve)
# join here as they land. REGION=… picks another region file from regions/.
set -euo pipefail
cd "$(dirname "$0")/.."
REGION=${REGION:-monaco}
weft() { node bin/weft.js "$@"; }

weft build base --region "$REGION"
weft verify "dist/$REGION/base.pmtiles"
echo
echo "demo: the base map of $REGION is at dist/$REGION/base.pmtiles (stats: dist/$REGION/base.stats.json)"
echo "demo: look inside with: node bin/weft.js inspect dist/$REGION/base.pmtiles"
