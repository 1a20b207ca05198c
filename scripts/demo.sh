#!/usr/bin/env bash
# The main job, on synthetic people only: two rules checked by hand, then `fieldkit demo`, a
# whole visit day from a throwaway HQ on this machine (SQLite, 127.0.0.1) to what HQ received.
# On a terminal the field app opens on the day's vault (unlock as sup1 with the passphrase it
# prints; Ctrl+Q quits); without one, or with `scripts/demo.sh --headless`, the scripted day
# is played (60 booked, no-shows, walk-ins, missing documents, a lost passport, a watchlist
# hit), closed, synced and checked against what HQ received. `fieldkit demo` removes its
# temporary folder and stops HQ at the end, also on Ctrl-C. Arguments go to `fieldkit demo`
# (--headless, --seed N, --keep).
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
export FIELDKIT_LANG="${FIELDKIT_LANG:-id}"
say() { printf '\n== %s\n' "$*"; }

say "fieldkit check nik: NIK lama Tarakan (sebelum Kalimantan Utara) tetap sah"
"$bin/fieldkit" check nik 6473014101809001

say "fieldkit fee: paspor elektronik 10 tahun, hilang, layanan percepatan"
"$bin/fieldkit" fee --type lost --product electronic --years 10 --same-day

say "fieldkit demo: satu hari kunjungan Eazy Passport, dari HQ sementara sampai yang diterima HQ"
exec "$bin/fieldkit" demo "$@"
