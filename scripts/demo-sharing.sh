#!/usr/bin/env bash
# The sharing workflow (共建共享) on the demo database: registered users, one request from filing
# to an active tenancy on a China Tower tower, one refused for its fees (a case for the
# regulator, decided), the overdue list and the audit chain. Safe to repeat.
# Usage: scripts/demo-sharing.sh BIN_DIR DATABASE
set -euo pipefail
BIN=$1
DB=$2
m() { "$BIN/mastplan" "$@" --database "$DB"; }

users=$(m user list)
while read -r name org role; do
  grep -q " $name " <<<"$users" || m user add "$name" --org "$org" --role "$role" --as demo
done <<'USERS'
demo.regulator cq-cac regulator
demo.cmcc china-mobile operator
demo.tower china-tower owner
demo.lights cq-street-lighting owner
USERS

# a tower and a lamp pole with a free position, from the registry's own export
csv=$(mktemp --suffix=.csv)
m export --layer structures --format csv --out "$csv" >/dev/null
read -r tower pole < <("$BIN/python" - "$csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))
        if r["open_for_sharing"] == "True" and r["status"] == "in_service"
        and int(r["free_positions"]) > 0]
pick = lambda kind, owner: next(r["code"] for r in rows if r["kind"] == kind and r["owner"] == owner)
print(pick("telecom_tower", "china-tower"), pick("lamp_pole", "cq-street-lighting"))
PY
)
rm -f "$csv"
id_of() { sed -n 's/^request \([0-9]*\) filed.*/\1/p'; }

echo "== a request for space on tower $tower, through to an active tenancy"
id=$(m sharing request --structure "$tower" --count 1 --payload-kg 45 --wind-area-m2 0.6 \
      --power-kw 1.8 --fibre --fee space_rent=6500 --fee electricity=0.65 --fee maintenance=1200 \
      --submit --as demo.cmcc | tee /dev/stderr | id_of)
m sharing review "$id" --as demo.tower
m sharing approve "$id" --as demo.tower
m sharing install "$id" --as demo.cmcc
m sharing activate "$id" --as demo.tower
m sharing show "$id" --as demo.cmcc

echo "== rent asked on public lamp pole $pole (opened free by the plan): refused, a case"
id=$(m sharing request --structure "$pole" --count 1 --payload-kg 15 --power-kw 0.3 \
      --fee space_rent=2000 --submit --as demo.cmcc | tee /dev/stderr | id_of)
m sharing review "$id" --as demo.lights
if refused=$(m sharing approve "$id" --as demo.lights 2>&1); then
  echo "the fee check let a forbidden rent through" >&2; exit 1
fi
echo "$refused"
case_id=$(sed -n 's/.*; case \([0-9]*\) opened for the regulator.*/\1/p' <<<"$refused")
m sharing waive "$id" --item space_rent --reason "public facility: no rent" --as demo.lights
m sharing approve "$id" --as demo.lights
m sharing cases --as demo.regulator
m sharing decide "$case_id" --outcome upheld --as demo.regulator \
  --decision "rent on a public lamp pole is not allowed; waived before approval"
m sharing overdue --as demo.regulator
m audit verify
