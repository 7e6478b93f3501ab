"""New-order notifications written before they named their order: name it (from the
order page link they carry) and settle those whose order no longer awaits confirmation,
so the bell counts only orders still to confirm."""

import re

from django.db import migrations
from django.utils import timezone

NUMBER = re.compile(r"/orders/([^/]+)/$")
BATCH = 2000


def settle(apps, schema_editor):
    Notification = apps.get_model("shops", "Notification")
    Order = apps.get_model("orders", "Order")
    now = timezone.now()
    todo = Notification.objects.filter(kind="new_order", about_order__isnull=True).order_by("pk")
    last = 0
    while True:
        rows = list(todo.filter(pk__gt=last).values_list("pk", "shop_id", "url", "read_at")[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        numbers = {m.group(1) for _, _, url, _ in rows if (m := NUMBER.search(url or ""))}
        orders = {(shop_id, number): (pk, status) for pk, shop_id, number, status in
                  Order.objects.filter(number__in=numbers).values_list("pk", "shop_id", "number", "status")}
        changed = []
        for pk, shop_id, url, read_at in rows:
            m = NUMBER.search(url or "")
            found = orders.get((shop_id, m.group(1))) if m else None
            if found is None:
                continue
            note = Notification(pk=pk, about_order=found[0], read_at=read_at)
            if read_at is None and found[1] != "AWAITING_CONFIRMATION":
                note.read_at = now
            changed.append(note)
        Notification.objects.bulk_update(changed, ["about_order", "read_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0006_order_number_upper"),
        ("shops", "0005_notification_about_order"),
    ]

    operations = [migrations.RunPython(settle, migrations.RunPython.noop)]
