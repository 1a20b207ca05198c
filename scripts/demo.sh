#!/usr/bin/env bash
# A two-minute tour of fieldkit on synthetic people: a fresh vault in a temporary directory,
# a visit, a roster import, captured applicants, a NIK check, the status and the audit chain;
# then an HQ on this machine (SQLite, 127.0.0.1), the laptop enrolled and synced, and what HQ
# received. Nothing is written outside the temporary directory, which is removed at the end.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
work="$(mktemp -d)"
hq_pid=""
cleanup() { [ -n "$hq_pid" ] && kill "$hq_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export FIELDKIT_HOME="$work/home" FIELDKIT_OFFICER=sup1 FIELDKIT_LANG="${FIELDKIT_LANG:-id}"
# A demo passphrase; on a field laptop fieldkit asks for it without echo.
export FIELDKIT_PASSPHRASE="demo kopi tubruk pagi"
say() { printf '\n== %s\n' "$*"; }

say "fieldkit init: vault baru, supervisor sup1 (kalibrasi Argon2id)"
"$bin/fieldkit" init --officer sup1 --name "Rina Wati"

say "fieldkit visit create: Eazy Passport di SMAN 1 Karawang"
visit=$("$bin/fieldkit" visit create --kind eazy --site "SMAN 1 Karawang" --date 2026-12-01 \
  --session pagi --coordinator-name "Budi Santoso" --coordinator-phone 0812-3456-7890)
echo "$visit"

say "fieldkit roster import: daftar koordinator (CSV, 25 orang sintetis, 1 baris salah)"
"$bin/fieldkit" synth applicants --count 25 --seed 7 | "$bin/python" -c '
import csv, json, sys
w = csv.writer(sys.stdout, delimiter=";")
w.writerow(["Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan", "No HP"])
for i, line in enumerate(sys.stdin):
    a = json.loads(line)
    nik = a["nik"][:15] if i == 3 else a["nik"]  # one NIK typed short, to show a rejected row
    w.writerow([a["name"].title(), a["birth_date"], nik, a["application_type"], "0" + a["phone"][3:]])
' > "$work/daftar.csv"
"$bin/fieldkit" roster import "$work/daftar.csv" --visit "$visit" || true

say "fieldkit applicant add: 5 pemohon dicatat di loket"
"$bin/fieldkit" synth applicants --count 5 --seed 7 > "$work/pemohon.jsonl"
"$bin/fieldkit" applicant add --visit "$visit" --json "$work/pemohon.jsonl" | tee "$work/ids"

say "fieldkit applicant show (setiap tampilan dicatat di log audit)"
"$bin/fieldkit" applicant show "$(head -n 1 "$work/ids")"

say "fieldkit check nik: NIK lama Tarakan (sebelum Kalimantan Utara) tetap sah"
"$bin/fieldkit" check nik 6473014101809001

say "fieldkit fee: paspor elektronik 10 tahun, hilang, layanan percepatan"
"$bin/fieldkit" fee --type lost --product electronic --years 10 --same-day

say "fieldkit status (tanpa kata sandi: hanya hitungan)"
"$bin/fieldkit" status

say "fieldkit audit verify"
"$bin/fieldkit" audit verify

say "fieldkit-hq init + serve: HQ di mesin ini (SQLite, 127.0.0.1)"
export FIELDKIT_HQ_HOME="$work/hq" FIELDKIT_HQ_PASSPHRASE="demo hq rendang sabtu malam"
"$bin/fieldkit-hq" init
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/fieldkit-hq" serve --port "$port" --log-level warning 2>"$work/hq.log" &
hq_pid=$!
for _ in $(seq 1 100); do
  "$bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" \
    2>/dev/null && break
  sleep 0.2
done

say "fieldkit enroll: kode sekali pakai dari HQ, laptop menyematkan kunci HQ"
code=$("$bin/fieldkit-hq" device enroll-code --expires 1h --json | "$bin/python" -c 'import json, sys; print(json.load(sys.stdin)["code"])')
"$bin/fieldkit" enroll --hq "http://127.0.0.1:$port" --code "$code"

say "fieldkit sync --once: batch tersegel dan bertanda tangan, tanda terima dari HQ"
"$bin/fieldkit" sync --once

say "fieldkit-hq status: apa yang diterima HQ (tepat sekali)"
"$bin/fieldkit-hq" status
