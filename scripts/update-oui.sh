#!/usr/bin/env bash
# Rebuilds crates/oui/data/ma-l.tsv from the IEEE's MA-L registry.
#
# Run by a maintainer now and then (the registry grows by a few hundred
# entries a month) and commit the result; nothing downloads it at build or
# run time. Usage: scripts/update-oui.sh [path-to-oui.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/oui/data/ma-l.tsv
src=${1:-}
if [ -z "$src" ]; then
    src=$(mktemp)
    trap 'rm -f "$src"' EXIT
    curl -fsSL https://standards-oui.ieee.org/oui/oui.csv -o "$src"
fi
# oui.csv: Registry,Assignment,Organization Name,Organization Address
python3 - "$src" "$out" <<'PY'
import csv, sys
rows = {}
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for r in csv.DictReader(f):
        if r.get('Registry') != 'MA-L':
            continue
        oui = r['Assignment'].strip().upper()
        name = ' '.join(r['Organization Name'].split())
        if len(oui) == 6 and name:
            rows[oui] = name
with open(sys.argv[2], 'w', encoding='utf-8') as f:
    for oui in sorted(rows):
        f.write(f"{oui}\t{rows[oui]}\n")
print(f"{len(rows)} OUIs written to {sys.argv[2]}")
PY
