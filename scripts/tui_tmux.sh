#!/usr/bin/env bash
# The real field app in a real terminal: `fieldkit` with no arguments, run in a detached tmux
# session at 80x24 on a temporary vault (an open visit, a booked roster of synthetic people),
# driven as an officer would: officer id, Tab, passphrase, Enter; Enter on today's visit; a
# booking code and Enter (as a scanner types it); the queue number checked on screen; ctrl+q.
# The app must exit 0 and its tmux session must be gone. Every screen is captured as text
# into a folder that is kept (its path is printed); the last capture is printed at the end.
#
# Needs tmux. Without it the script skips (exit 0) on a developer's machine and fails when
# CI=true, after trying apt-get when it can. Used by .ci/run after `make test`.
#
#   scripts/tui_tmux.sh            # TUI_TMUX_TIMEOUT=20 (seconds per wait), FIELDKIT_LANG=id
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.venv/bin"
timeout="${TUI_TMUX_TIMEOUT:-20}"
# Quitting waits for the app's sync thread, which sleeps up to 15 s between looks at the outbox.
exit_timeout="${TUI_TMUX_EXIT_TIMEOUT:-40}"
passphrase="kopi tubruk pagi hari"  # synthetic test officer; cheap KDF, temporary vault

say() { printf '== %s\n' "$*"; }
fail() { printf 'tui_tmux.sh: FAILED: %s\n' "$*" >&2; exit 1; }

if ! command -v tmux >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      say "tmux is missing: installing it from apt (CI=true)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
    fi
    command -v tmux >/dev/null 2>&1 || fail "tmux is not installed and CI=true requires this check"
  else
    echo "tui_tmux.sh: SKIPPED: tmux is not installed (apt-get install tmux); CI=true makes this a failure"
    exit 0
  fi
fi
[ -x "$bin/fieldkit" ] || fail "$bin/fieldkit is missing: run make test (or make) first"

work="$(mktemp -d -t fieldkit-tui.XXXXXX)"
captures="$(mktemp -d -t fieldkit-tui-captures.XXXXXX)"
socket="fieldkit-tui-$$"  # a tmux server of our own: never the officer's or developer's
session="fieldkit"
tm() { tmux -L "$socket" -f /dev/null "$@"; }  # no ~/.tmux.conf
cleanup() {
  tm kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# -- the vault: made with the CLI, as on a laptop the evening before ----------------------------
export FIELDKIT_HOME="$work/home" FIELDKIT_INSECURE_TEST_KDF=1 FIELDKIT_LANG="${FIELDKIT_LANG:-id}"
export FIELDKIT_CONFIG="$work/no-config.toml"  # no developer's configuration file
export FIELDKIT_OFFICER=sup1 FIELDKIT_PASSPHRASE="$passphrase"
say "a temporary vault in $FIELDKIT_HOME: an open visit, a booked roster of 10 synthetic people"
"$bin/fieldkit" synth day --date 2026-12-01 --applicants 10 --seed 3 --out "$work/day" >/dev/null
"$bin/fieldkit" init --officer sup1 --name "Rina Wati" >/dev/null 2>&1
visit=$("$bin/fieldkit" visit create --kind eazy --site "SMAN 1 Karawang" --date 2026-12-01 \
  --session pagi --coordinator-name "Budi Santoso" --coordinator-phone 0812-3456-7890 2>/dev/null)
"$bin/fieldkit" roster import "$work/day/roster.csv" --visit "$visit" >/dev/null 2>&1
"$bin/fieldkit" visit open "$visit" >/dev/null 2>&1
# The first booking code on the roster (the column is found by its header).
code=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "Kode Booking") c = i; next }
                  NR == 2 { print $c; exit }' "$work/day/roster.csv")
[ -n "$code" ] || fail "no booking code in $work/day/roster.csv"
# The app asks for the officer and passphrase itself: nothing typed for it in advance.
unset FIELDKIT_OFFICER FIELDKIT_PASSPHRASE

# -- the app in tmux ------------------------------------------------------------------------------
n=0
capture() {  # capture NAME: the pane as text, kept in $captures/NN-NAME.txt
  n=$((n + 1))
  tm capture-pane -p -t "$session" >"$captures/$(printf '%02d' "$n")-$1.txt"
}
wait_for() {  # wait_for NAME TEXT...: until the pane shows every TEXT (fixed strings)
  local name="$1" deadline=$((SECONDS + timeout)) text screen missing
  shift
  while :; do
    screen="$(tm capture-pane -p -t "$session" 2>/dev/null || true)"
    missing=""
    for text in "$@"; do
      grep -qF -- "$text" <<<"$screen" || { missing="$text"; break; }
    done
    if [ -z "$missing" ]; then
      capture "$name"
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      capture "$name-timeout"
      printf '%s\n' "$screen" >&2
      fail "$name: \"$missing\" not on screen after ${timeout} s (captures in $captures)"
    fi
    sleep 0.2
  done
}
keys() { tm send-keys -t "$session" "$@"; }
type_text() { tm send-keys -t "$session" -l -- "$1"; }

say "fieldkit in tmux at 80x24 (captures in $captures)"
started=$SECONDS
tm new-session -d -s "$session" -x 80 -y 24 \
  "'$bin/fieldkit'; echo \$? >'$work/rc'"
wait_for unlock "Buka kunci laptop"

say "unlock: sup1, Tab, passphrase, Enter"
type_text sup1
keys Tab
type_text "$passphrase"
keys Enter
wait_for visits "SMAN 1 Karawang" "2026-12-01" "dibuka"

say "Enter: check-in at the open visit"
keys Enter
wait_for checkin "NOMOR ANTREAN" "siap dicari"

say "a booking code and Enter: $code"
type_text "$code"
keys Enter
# The number itself is drawn in big Digits (box-drawing characters); the line under it says it.
wait_for queue-number "NOMOR ANTREAN" "Nomor antrean A-001"

say "ctrl+q"
quit_at=$SECONDS
keys C-q
deadline=$((SECONDS + exit_timeout))
while tm has-session -t "$session" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the app was still running ${exit_timeout} s after ctrl+q"
  sleep 0.2
done
[ -f "$work/rc" ] || fail "the app's exit status was not recorded"
rc="$(cat "$work/rc")"
[ "$rc" = 0 ] || fail "fieldkit exited $rc"
tm has-session -t "$session" 2>/dev/null && fail "the tmux session is still there"

say "the last screen ($captures/$(printf '%02d' "$n")-queue-number.txt)"
cat "$captures/$(printf '%02d' "$n")-queue-number.txt"
echo "tui_tmux.sh: ok: unlock, visits, check-in, A-001, exit 0 in $((quit_at - started)) s" \
  "+ $((SECONDS - quit_at)) s to quit; the tmux session is gone"
