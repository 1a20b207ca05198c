"""``fieldkit fee``: the amount due for an application on a date."""

from __future__ import annotations

from datetime import date, datetime

import click

from fieldkit.cli.output import cli, finish
from fieldkit.domain.applications import ApplicationType
from fieldkit.domain.fees import quote_fee
from fieldkit.domain.money import format_rupiah
from fieldkit.domain.products import PassportKind, Product


@click.command()
@click.option(
    "--type",
    "app_type",
    type=click.Choice([t.value for t in ApplicationType]),
    required=True,
    help="Application: new, expired (replacing an expired or full passport), lost or damaged.",
)
@click.option(
    "--product",
    type=click.Choice([k.value for k in PassportKind]),
    required=True,
    help="Passport kind: ordinary or electronic.",
)
@click.option(
    "--years",
    type=click.Choice(["5", "10"]),
    required=True,
    help="Validity in years (10 only for applicants aged 17+ or married).",
)
@click.option("--same-day", is_flag=True, help="Add same-day service (layanan percepatan).")
@click.option(
    "--force-majeure",
    is_flag=True,
    help="Lost or damaged through a disaster: the force-majeure fine (Rp0) applies.",
)
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date of the application (YYYY-MM-DD); today when omitted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def fee(
    app_type: str,
    product: str,
    years: str,
    same_day: bool,
    force_majeure: bool,
    on: datetime | None,
    as_json: bool,
) -> None:
    """Compute the fee (PNBP) due for one application under the regulation in force."""
    s = cli()
    when = on.date() if on is not None else date.today()
    checked = quote_fee(
        app_type=ApplicationType(app_type),
        product=Product(PassportKind(product), int(years)),
        same_day=same_day,
        force_majeure=force_majeure,
        on=when,
    )
    quote = checked.value
    if quote is None:
        finish(checked, as_json=as_json, value_json=None)
    finish(
        checked,
        as_json=as_json,
        value_json={
            "on": when.isoformat(),
            "regulation": quote.regulation,
            "lines": [
                {"item": line.item, "label": line.label.text(s.lang), "amount": line.amount}
                for line in quote.lines
            ],
            "total": quote.total,
            "total_text": format_rupiah(quote.total),
        },
        title=s.say(
            f"Biaya per {when:%d-%m-%Y} ({quote.regulation}):",
            f"Fee on {when.isoformat()} ({quote.regulation}):",
        ),
        lines=[
            *((line.label.text(s.lang), format_rupiah(line.amount)) for line in quote.lines),
            (s.say("Jumlah", "Total"), format_rupiah(quote.total)),
        ],
    )
