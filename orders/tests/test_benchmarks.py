"""The benchmark commands run end to end on small data, so their figures stay measurable:
a benchmark that broke unnoticed would leave the targets unmeasured."""

import io

import pytest
from django.core.management import call_command

from orders.models import Order


@pytest.mark.django_db
def test_bench_orders_prints_every_tab_counts_bulk_confirm_and_the_yardstick():
    call_command("generate_orders", orders=300, shops=2, seller_share=0.5, stdout=io.StringIO())
    out = io.StringIO()
    call_command("bench_orders", repeat=2, stdout=out)
    text = out.getvalue()
    for _, label in Order.Status.choices:
        assert f"\n{label:<22} page 1" in text, label
    assert "equal to GROUP BY: yes PASS" in text
    assert "500 confirmed" in text and "1000 of 1000 now awaiting shipment" in text
    assert "Yardstick, the smallest authenticated page" in text and "queries PASS" in text


@pytest.mark.django_db(transaction=True)
def test_bench_policies_cancels_the_due_orders_once_and_reports_the_ratio(on_postgres):
    out = io.StringIO()
    call_command("bench_policies", orders=400, due=40, shops=2, stdout=out)
    text = out.getvalue()
    assert "due for P1/P5 cancellation: 40" in text
    assert "hand-written UPDATE of the same 40 rows" in text
    assert "ratio runner / hand-written UPDATE:" in text and "longest transaction:" in text
    assert "second run (idempotence): 0 changes" in text
    assert Order.objects.filter(status=Order.Status.CANCELLED, cancel_reason__in=["unpaid", "no_tracking"]).exists()
