"""What holding a laptop's watchlist data is worth to an attacker, before and after format 2.

The attacker knows the NIK's structure (6-digit region, birth date DDMMYY with +40 on the day
for women, 4-digit serial), one region and a two-year birth window: 730 × 2 × 9,999 ≈ 14.6
million candidates. Measured in the same run, one core each, interleaved in rounds:

- baseline, format 1: HMAC-SHA256 under the key that travelled beside the digests
  (``sync.wire.reference.watchlist_digest``), candidates per second;
- format 2: the truncated Argon2id tag at the default cost (``watchlist_tag``, 19 MiB,
  2 passes, 1 lane), candidates per second on one core and with every core (threads).

From those rates: the time to search the whole space in each form, and how many candidates
each stored value matches there (space / 2**bits): the number of people the attacker cannot
tell apart even after paying for the search.

The device's false-positive rate (a NIK not on the list matching a stored tag) for lists of
100, 1,000 and 10,000 synthetic NIKs over 100,000 other synthetic NIKs: it depends only on the
truncation and the list size (Argon2id is a pseudo-random function whatever its cost), so it is
measured with the same construction at the cheapest cost to keep the run short.
"""

from __future__ import annotations

import os
import random
import sys
import time

from bench import _common as c
from fieldkit.domain.synth import synthetic_applicants
from sync.wire.reference import (
    WatchlistParams,
    bits_for,
    false_positive_rate,
    watchlist_digest,
    watchlist_tag,
    watchlist_tags,
)

SPACE = 730 * 2 * 9999  # one region, a two-year birth window, every serial
CHEAP = WatchlistParams(memory_kib=8, iterations=1, lanes=1)


def _candidates(count: int, rng: random.Random) -> list[str]:
    """Structured NIKs of one region (Karawang, 321501) in a two-year window."""
    out = []
    for _ in range(count):
        day = rng.randrange(1, 29) + (40 if rng.random() < 0.5 else 0)
        out.append(f"321501{day:02d}{rng.randrange(1, 13):02d}{rng.choice((89, 90)):02d}"
                   f"{rng.randrange(1, 10000):04d}")  # fmt: skip
    return out


def _rate(fn, items: list[str]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--rounds", type=int, default=5, help="interleaved measuring rounds")
    p.add_argument("--hmac", type=int, default=50_000, help="HMAC candidates per round")
    p.add_argument("--argon", type=int, default=16, help="Argon2id candidates per round")
    p.add_argument("--others", type=int, default=100_000, help="non-listed NIKs for the FPR")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    key, salt = os.urandom(32), os.urandom(16)
    default = WatchlistParams()

    hmac_rates, argon_rates, parallel_rates = [], [], []
    for _ in range(args.rounds):
        batch = _candidates(args.hmac, rng)
        hmac_rates.append(_rate(lambda n: watchlist_digest(key, n), batch))
        slow = _candidates(args.argon, rng)
        argon_rates.append(_rate(lambda n: watchlist_tag(n, salt, default), slow))
        wide = _candidates(args.argon * 2, rng)
        start = time.perf_counter()
        watchlist_tags(wide, salt, default)
        parallel_rates.append(len(wide) / (time.perf_counter() - start))
    hmac_rate = sorted(hmac_rates)[len(hmac_rates) // 2]
    argon_rate = sorted(argon_rates)[len(argon_rates) // 2]
    parallel_rate = sorted(parallel_rates)[len(parallel_rates) // 2]
    print(f"format 1, HMAC-SHA256:           {hmac_rate:12,.0f} candidates/s (one core)")
    print(f"format 2, Argon2id 19 MiB/2/1:   {argon_rate:12,.1f} candidates/s (one core), "
          f"{1000 / argon_rate:.0f} ms a check")  # fmt: skip
    print(f"format 2, every core:            {parallel_rate:12,.1f} candidates/s")
    print(f"RESULT ratio HMAC / Argon2id (one core): {hmac_rate / argon_rate:,.0f}x slower")
    print(f"space: one region, two-year window: {SPACE:,} candidates")
    print(f"  format 1 searched in {SPACE / hmac_rate:,.0f} s on one core: every listed NIK "
          "named exactly")  # fmt: skip
    print(f"  format 2 searched in {SPACE / argon_rate / 86400:,.1f} core-days, and then:")
    per_value = {}
    for bits in range(16, 21):
        per_value[bits] = SPACE / 2**bits
        print(f"    {bits} bits: each stored value matches ~{per_value[bits]:,.0f} candidates")

    others = [a.nik for a in synthetic_applicants(args.others + 10_000, args.seed)]
    listed_pool, outside = others[:10_000], others[10_000:]
    fpr: list[dict[str, object]] = []
    cheap_salt = os.urandom(16)
    outside_tags: dict[int, list[int]] = {}
    for size in (100, 1000, 10_000):
        for bits in sorted({16, bits_for(size)}):
            params = WatchlistParams(CHEAP.memory_kib, CHEAP.iterations, CHEAP.lanes, bits)
            tags = set(watchlist_tags(listed_pool[:size], cheap_salt, params))
            if bits not in outside_tags:
                full = WatchlistParams(CHEAP.memory_kib, CHEAP.iterations, CHEAP.lanes, 32)
                raw = [watchlist_tag(n, cheap_salt, full) for n in outside]
                outside_tags[bits] = [t >> (32 - bits) for t in raw]
            hits = sum(1 for t in outside_tags[bits] if t in tags)
            row = {
                "list": size,
                "bits": bits,
                "chosen": bits == bits_for(size),
                "measured": hits / len(outside),
                "expected": false_positive_rate(len(tags), bits),
                "per_value_in_space": SPACE / 2**bits,
            }
            fpr.append(row)
            print(f"FPR list {size:>6,} at {bits} bits{' (chosen)' if row['chosen'] else '':9}: "
                  f"{hits:>6,} / {len(outside):,} = {row['measured']:.3%} "
                  f"(expected {row['expected']:.3%})")  # fmt: skip
    result: dict[str, object] = {
        "benchmark": "watchlist_bruteforce",
        "hmac_per_s": hmac_rate,
        "argon2id_per_s": argon_rate,
        "argon2id_per_s_all_cores": parallel_rate,
        "ratio": hmac_rate / argon_rate,
        "space": SPACE,
        "format1_seconds": SPACE / hmac_rate,
        "format2_core_days": SPACE / argon_rate / 86400,
        "candidates_per_value": per_value,
        "false_positive_rates": fpr,
        "machine": c.machine(),
        "command": c.command("bench.watchlist_bruteforce", argv),
    }
    c.finish(result, args.json)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
