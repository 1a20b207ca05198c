"""The fault-injecting proxy itself does what it says, against a real HTTP server."""

import http.server
import threading

import requests

from tests.support.faultproxy import FAULTS, FaultPlan, FaultProxy


class Counting(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        type(self).hits += 1
        answer = b"echo:" + body
        self.send_response(201)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_every_fault_happens_and_passing_requests_arrive_intact():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    plan = FaultPlan(stall_seconds=0.5, seed=3)
    outcomes = {"ok": 0, "error": 0, "status": 0}
    try:
        with FaultProxy(server.server_address[1], plan) as proxy:
            for i in range(200):
                try:
                    r = requests.post(f"http://127.0.0.1:{proxy.port}/x", data=f"n{i}", timeout=0.3)
                except requests.RequestException:
                    outcomes["error"] += 1
                    continue
                if r.status_code == 201:
                    assert r.content == f"echo:n{i}".encode()
                    outcomes["ok"] += 1
                else:
                    assert r.status_code in (500, 503)
                    if r.status_code == 503:
                        assert r.headers["Retry-After"] == "1"
                    outcomes["status"] += 1
            stats = proxy.stats
    finally:
        server.shutdown()
    assert set(FAULTS) <= set(stats), stats
    assert outcomes["ok"] == stats["pass"]
    assert (
        outcomes["status"]
        == stats["error_500"] + stats["error_500_after"] + stats["unavailable_503"]
    )
    # Requests forwarded reached the server, including those whose answer was lost.
    forwarded = sum(stats[f] for f in ("pass", "drop_after", "error_500_after", "cut_short"))
    assert Counting.hits == forwarded
