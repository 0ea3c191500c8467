#!/usr/bin/env bash
# Build the web UI (web/, Vite) into src/mastplan/web/static/ when the bundle is missing or older
# than its sources; otherwise do nothing. The bundle includes the offline API docs page
# (api-docs.html, with Swagger UI copied from the npm package swagger-ui-dist). Installs the npm
# packages first (`npm ci` from the lock file, `npm install` without one) when node_modules is
# missing or older than the lock.
# Usage: scripts/build-web.sh [--force]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
web=$root/web
bundle=$root/src/mastplan/web/static/index.html
api_docs=$root/src/mastplan/web/static/api-docs.html  # the offline API docs page (Swagger UI)
force=${1:-}

sources=("$web/index.html" "$web/src" "$web/package.json" "$web/vite.config.js")
[ -f "$web/package-lock.json" ] && sources+=("$web/package-lock.json")
if [ "$force" != "--force" ] && [ -f "$bundle" ] && [ -f "$api_docs" ] \
   && [ -z "$(find "${sources[@]}" -newer "$bundle" -print -quit)" ]; then
  exit 0  # up to date
fi

if ! command -v npm >/dev/null; then
  echo "error: npm not found: the web UI needs Node.js >= 20.19 with npm to build" \
       "(Debian: apt-get install nodejs npm, or https://nodejs.org)" >&2
  exit 1
fi

cd "$web"
installed=node_modules/.package-lock.json  # written by npm after every install
if [ ! -f "$installed" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$installed" ]; } \
   || [ package.json -nt "$installed" ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
npm run build --silent -- --logLevel warn
touch "$bundle"  # the stamp the next run compares the sources with
echo "web UI built: $bundle"
