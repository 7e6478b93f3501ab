from django.db import connection
from django.utils.functional import SimpleLazyObject

from . import roles
from .models import Notification, NotificationRead, Shop


def unread_count(membership):
    """How many of the shop's notifications this member has not read: what
    Notification.objects.for_member(membership).unread_by(user).count() counts, in plain SQL.
    Every seller page shows the bell, and building that query through the ORM took ten times as
    long as running it (issue 16's profile: 2.2-2.6 ms of a 10 ms page)."""
    kinds = roles.kinds_heard_by(membership.role)
    n, r = Notification._meta, NotificationRead._meta
    qn = connection.ops.quote_name

    def col(meta, field):
        return f"{qn(meta.db_table)}.{qn(meta.get_field(field).column)}"

    heard = f"{col(n, 'kind')} IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1 = 0"
    sql = (f"SELECT COUNT(*) FROM {qn(n.db_table)} WHERE {col(n, 'shop')} = %s AND {col(n, 'read_at')} IS NULL "
           f"AND (({col(n, 'user')} IS NULL AND {heard}) OR {col(n, 'user')} = %s) "
           f"AND NOT EXISTS (SELECT 1 FROM {qn(r.db_table)} WHERE {col(r, 'notification')} = {col(n, 'id')} "
           f"AND {col(r, 'user')} = %s)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [membership.shop_id, *kinds, membership.user_id, membership.user_id])
        return cursor.fetchone()[0]


def shop_nav(request):
    """The shop switcher and the bell. The switcher reuses the shops shop_required loaded;
    the bell's unread count is read only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    shops = getattr(request, "my_shops", None)
    # `can`: what the member may do in this shop ({% if can.orders.confirm %}), from the
    # membership shop_required resolved; nothing outside a shop.
    context = {"my_shops": shops if shops is not None else Shop.objects.for_user(user),
               "can": getattr(request, "can", roles.NOBODY)}
    shop = getattr(request, "shop", None)
    membership = getattr(request, "membership", None)
    if shop is not None:
        context["shop"] = shop
    if shop is not None and membership is not None:
        context["bell_unread"] = SimpleLazyObject(lambda: unread_count(membership))
    return context
