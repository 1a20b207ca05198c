"""Modelled time to sync 500 applicants over an EDGE link, from measured bytes, against per-record.

Measured (same as ``bench.sync_wire``, same run): a real device with ``--applicants`` captured
applicants syncs to a real HQ on 127.0.0.1 through a counting relay; every request and
response is recorded with its HTTP head and body sizes (the checkpoint GET and one POST per
batch). Baseline, same run: the same record versions POSTed as plaintext JSON, one request
each, to a trivial server, also counted.

Model (stated, not measured), for both, over one kept-alive HTTPS connection:

- link: ``--up-kbit`` up, ``--down-kbit`` down, ``--rtt-ms`` round trip; no loss;
- connection setup once: DNS already resolved; TCP handshake 1 RTT; TLS 1.3 full handshake
  1 RTT, ClientHello ``--tls-client-hello`` bytes up, the server's flight (ServerHello,
  certificate chain, CertificateVerify, Finished) ``--tls-server-flight`` bytes down, the
  client's Finished ``--tls-client-finished`` bytes up (sent with the first request);
- each request: 1 RTT (the request's last byte reaches HQ and the response comes back) plus
  serialisation of the request bytes up and the response bytes down, plus the round trips TCP
  slow start adds: windows start at ``--initcwnd`` segments of ``--mss`` bytes and double each
  round trip until they cover the bandwidth-delay product; the window is kept between requests
  ("warm") or, pessimistically, restarted for every request ("cold", Linux's
  slow-start-after-idle when the gap exceeds the retransmission timeout);
- bytes on the link: the HTTP bytes measured, plus 22 bytes of TLS 1.3 record overhead per
  16 KiB record (5 header, 1 content type, 16 tag; head and body in separate records), plus
  ``--tcpip-header`` bytes per TCP segment, plus the receiver's ACKs (one per two segments);
- compute: the measured loopback time of the whole sync (device cutting and sealing, HQ
  ingest, receipts) is added once, and so is the baseline's loopback time for its requests.

The ratio is baseline time / sync time.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from bench import _common as c
from bench import sync_harness as h

TLS_RECORD = 16384
TLS_RECORD_OVERHEAD = 22


@dataclass(frozen=True)
class Link:
    """The modelled link and connection."""

    up_bps: float  # bytes per second
    down_bps: float
    rtt: float  # seconds
    mss: int
    tcpip_header: int
    initcwnd: int
    tls_client_hello: int
    tls_server_flight: int
    tls_client_finished: int

    def on_link(self, head: int, body: int) -> tuple[int, int]:
        """(bytes on the link in the sending direction, TCP segments) for an HTTP message."""
        tls = sum(TLS_RECORD_OVERHEAD * math.ceil(part / TLS_RECORD) for part in (head, body))
        payload = head + body + tls
        segments = math.ceil(payload / self.mss)
        return payload + segments * self.tcpip_header, segments

    def ack_bytes(self, segments: int) -> int:
        """The receiver's ACKs (delayed ACK: one per two segments)."""
        return math.ceil(segments / 2) * self.tcpip_header

    def transfer(self, nbytes: int, rate: float, cwnd: int) -> tuple[float, int]:
        """Seconds to push ``nbytes`` (beyond the one RTT the exchange costs anyway) and the
        window afterwards.

        Slow start without loss: while a window is below the bandwidth-delay product, each
        round sends one window and waits one RTT for its ACKs, and the window grows by the
        segments acknowledged (doubling per full round); once it covers the product, or the
        rest fits in it, the rest goes at the link rate.
        """
        bdp = rate * self.rtt
        seg = self.mss + self.tcpip_header
        seconds = 0.0
        remaining = nbytes
        while remaining > 0:
            window = cwnd * seg
            if window >= bdp or remaining <= window:
                seconds += remaining / rate
                cwnd += math.ceil(remaining / seg)
                remaining = 0
            else:
                seconds += self.rtt
                remaining -= window
                cwnd *= 2
        return seconds, cwnd


def model(
    link: Link, exchanges: list[h.Exchange], compute: float, *, warm: bool
) -> dict[str, float]:
    """Modelled seconds for the exchanges over one new connection."""
    setup = (
        2 * link.rtt
        + link.on_link(0, link.tls_client_hello)[0] / link.up_bps
        + link.on_link(0, link.tls_server_flight)[0] / link.down_bps
    )
    rtts = 0.0
    up_time = down_time = 0.0
    up_bytes = down_bytes = 0
    cwnd_up = link.initcwnd
    first = True
    for e in exchanges:
        req, req_segments = link.on_link(e.request.head, e.request.body)
        resp, resp_segments = link.on_link(e.response.head, e.response.body)
        if first:
            req += link.on_link(0, link.tls_client_finished)[0]
            first = False
        req_acks, resp_acks = link.ack_bytes(req_segments), link.ack_bytes(resp_segments)
        up_bytes += req + resp_acks
        down_bytes += resp + req_acks
        if not warm:
            cwnd_up = link.initcwnd
        t_up, cwnd_up = link.transfer(req, link.up_bps, cwnd_up)
        t_down, _ = link.transfer(resp, link.down_bps, link.initcwnd)
        rtts += link.rtt
        up_time += t_up
        down_time += t_down
    total = setup + rtts + up_time + down_time + compute
    return {
        "seconds": total,
        "setup": setup,
        "request_rtts": rtts,
        "up_serialisation_and_slow_start": up_time,
        "down_serialisation": down_time,
        "compute": compute,
        "up_bytes": up_bytes,
        "down_bytes": down_bytes,
        "requests": len(exchanges),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = c.parser(__doc__)
    p.add_argument("--applicants", type=int, default=500, help="applicants captured and synced")
    p.add_argument("--per-save", type=int, default=1, help="applicants per add_applicants call")
    p.add_argument("--up-kbit", type=float, default=240.0, help="uplink, kbit/s")
    p.add_argument("--down-kbit", type=float, default=240.0, help="downlink, kbit/s")
    p.add_argument("--rtt-ms", type=float, default=840.0, help="round-trip time, ms")
    p.add_argument("--mss", type=int, default=1400, help="TCP payload bytes per segment")
    p.add_argument("--tcpip-header", type=int, default=52, help="IPv4+TCP+timestamps per segment")
    p.add_argument("--initcwnd", type=int, default=10, help="initial TCP window, segments")
    p.add_argument("--tls-client-hello", type=int, default=517, help="bytes")
    p.add_argument("--tls-server-flight", type=int, default=4500, help="bytes, with certificates")
    p.add_argument("--tls-client-finished", type=int, default=80, help="bytes")
    args = p.parse_args(argv)

    profiler = c.Profiler(args.profile)
    with c.temp_dir(args.tmpdir) as tmp, profiler:
        run = h.measure_wire(tmp, args.applicants, args.seed, args.per_save)

    link = Link(
        up_bps=args.up_kbit * 1000 / 8,
        down_bps=args.down_kbit * 1000 / 8,
        rtt=args.rtt_ms / 1000,
        mss=args.mss,
        tcpip_header=args.tcpip_header,
        initcwnd=args.initcwnd,
        tls_client_hello=args.tls_client_hello,
        tls_server_flight=args.tls_server_flight,
        tls_client_finished=args.tls_client_finished,
    )
    ours = {w: model(link, run.sync, run.sync_seconds, warm=w == "warm") for w in ("warm", "cold")}
    base = {
        w: model(link, run.baseline, run.baseline_seconds, warm=w == "warm")
        for w in ("warm", "cold")
    }
    ratio = base["warm"]["seconds"] / ours["warm"]["seconds"]
    t_ours, t_base = run.totals(run.sync), run.totals(run.baseline)

    print(
        f"EDGE model: {args.applicants} applicants ({args.per_save} per save), "
        f"{run.records} record versions + {run.audit} audit entries; link {args.up_kbit:g} kbit/s "
        f"up, {args.down_kbit:g} kbit/s down, RTT {args.rtt_ms:g} ms, MSS {args.mss}, "
        f"initcwnd {args.initcwnd}, TLS 1.3 on one kept-alive connection"
    )
    print(
        f"measured HTTP bytes: sync {t_ours['requests']} requests, {t_ours['up']:,} B up, "
        f"{t_ours['down']:,} B down (loopback {run.sync_seconds:.2f} s); baseline "
        f"{t_base['requests']} requests, {t_base['up']:,} B up, {t_base['down']:,} B down "
        f"(loopback {run.baseline_seconds:.2f} s)"
    )
    for e in run.sync:
        method, path = e.request.start_line.split(" ")[:2]
        print(
            f"  {method:<4} {path[:30]:<30} request {e.request.head}+{e.request.body:,} B, "
            f"response {e.response.head}+{e.response.body} B"
        )
    for label, m in (
        ("sync, window kept", ours["warm"]),
        ("sync, slow start each request", ours["cold"]),
        ("baseline, window kept", base["warm"]),
        ("baseline, slow start each", base["cold"]),
    ):
        print(
            f"{label:<32} {m['seconds']:8.1f} s = setup {m['setup']:.2f} + RTTs "
            f"{m['request_rtts']:.2f} ({m['requests']} requests) + up "
            f"{m['up_serialisation_and_slow_start']:.2f} + down {m['down_serialisation']:.2f} "
            f"+ compute {m['compute']:.2f}; on the link "
            f"{m['up_bytes']:,} B up, {m['down_bytes']:,} B down"
        )
    print(
        f"RESULT {ours['warm']['seconds']:.1f} s modelled to sync {args.applicants} applicants "
        f"over EDGE ({ours['cold']['seconds']:.1f} s if every request restarts slow start); "
        f"baseline one request per record {base['warm']['seconds']:.1f} s; ratio baseline / "
        f"sync {ratio:.1f}x"
    )
    result: dict[str, object] = {
        "benchmark": "sync_edge_model",
        "applicants": args.applicants,
        "per_save": args.per_save,
        "link": vars(args) | {"tmpdir": None, "json": None},
        "records": run.records,
        "audit": run.audit,
        "sync_exchanges": [e.as_json() for e in run.sync],
        "sync_http": t_ours,
        "baseline_http": t_base,
        "sync_model": ours,
        "baseline_model": base,
        "seconds": ours["warm"]["seconds"],
        "ratio": ratio,
        "target": "none stated (modelled figure)",
        "target_met": True,
        "headline": (
            f"{ours['warm']['seconds']:.1f} s modelled ({ours['cold']['seconds']:.1f} s cold "
            f"windows) for {args.applicants} applicants in {t_ours['requests']} requests; "
            f"per-record baseline {base['warm']['seconds']:.0f} s; ratio {ratio:.1f}x"
        ),
        "machine": c.machine() | {"worktree": h.worktree()},
        "command": c.command("bench.sync_edge_model", argv),
    }
    c.finish(result, args.json)
    profiler.report()
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
