"""``fieldkit-hq status``: summarise HQ."""

from __future__ import annotations

from datetime import timedelta

import click

from fieldkit.settings import Settings
from sync.hq import keys, store
from sync.hq.cli.common import (
    _engine,
    _print_json,
    _ranges,
    pass_settings,
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """Summarise HQ: devices, batches, missing sequence numbers, open flags, rejections."""
    home = settings.hq_home
    engine = _engine(settings)
    statuses = store.device_statuses(engine)
    open_flags = store.open_flags(engine)
    rejected = store.rejection_counts(engine, store.now() - timedelta(hours=24))
    summary = keys.public_summary(home)
    report: dict[str, object] = {
        "home": str(home),
        "database": store.redact(store.database_url(home, settings.hq_db)),
        "hq_kid": summary["current_kid"],
        "hq_signing_kid": summary["signing_kid"],
        "devices": {
            "enrolled": len(statuses),
            "revoked": sum(1 for s in statuses if s.device.revoked),
        },
        "batches": sum(s.batches for s in statuses),
        "records": sum(s.records for s in statuses),
        "received": store.received_counts(engine),
        "missing": {s.device.device_id: s.missing for s in statuses if s.missing},
        "audit_unverified": {
            s.device.device_id: s.audit_unverified for s in statuses if s.audit_unverified
        },
        "flags": [
            {
                "id": f["id"],
                "at": store.iso(f["at"]),
                "device_id": f["device_id"],
                "batch_id": f["batch_id"],
                "kind": f["kind"],
                "detail": f["detail"],
            }
            for f in open_flags
        ],
        "rejections_24h": rejected,
        "reference": store.reference_summary(engine),
    }
    if as_json:
        _print_json(report)
        return
    devices = report["devices"]
    click.echo(f"HQ in {home}  store {report['database']}  HQ key {report['hq_kid']}")
    click.echo(
        f"devices: {devices['enrolled']} enrolled, {devices['revoked']} revoked;"  # type: ignore[index]
        f"  batches: {report['batches']};  records: {report['records']}"
    )
    received: dict[str, dict[str, int]] = report["received"]  # type: ignore[assignment]
    if received:
        kinds = [
            f"{kind} {sum(states.values())} ("
            + ", ".join(f"{state} {n}" for state, n in states.items())
            + ")"
            for kind, states in received.items()
        ]
        click.echo("received (latest versions): " + "; ".join(kinds))
    for s in statuses:
        if s.missing:
            click.echo(f"missing from {s.device.device_id}: seq {_ranges(s.missing)}")
    for f in report["flags"]:  # type: ignore[attr-defined]
        click.echo(f"FLAG #{f['id']} {f['kind']} device {f['device_id']}: {f['detail']}")
    if rejected:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items()))
        click.echo(f"rejections in the last 24 h: {parts}")
    ref = report["reference"]
    click.echo(
        f"reference data: version {ref['version']}, fees published "  # type: ignore[index]
        f"{ref['fees_published_at'] or 'never'}, watchlist {ref['watchlist']} NIK(s), "  # type: ignore[index]
        f"{ref['roster_assignments']} visit(s) assigned "  # type: ignore[index]
        f"({ref['roster_withdrawn']} withdrawn), "  # type: ignore[index]
        f"{ref['revoked_officers']} officer revocation(s)"  # type: ignore[index]
    )
