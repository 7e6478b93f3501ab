"""Demo data: three shops (one Vietnamese, in dong), their sellers, a staff user, SKUs and orders in every status.

Every order is reached by calling the actions, never by writing a status, so the demo's
history, counters and stock are what real use would produce. Idempotent: existing demo
objects are left as they are.
"""

import random
import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.actor import Actor
from orders import actions
from orders.language import language_of_locale
from orders.models import Order
from shops import policy_windows, stock, warehouses
from shops.models import SKU, MemberProfile, Membership, Shop, Warehouse, WarehouseStock

S = Order.Status
DEMO_PASSWORD = "demo"

SHOPS = [
    {
        "slug": "aurora-apparel",
        "name": "Aurora Apparel",
        "time_zone": "America/New_York",
        "currency": "USD",
        "seller": "alice",
        # alice's team: a packer and a customer-service agent (who may refund up to refund_limit).
        "team": [("carol", Membership.Role.FULFILMENT), ("dave", Membership.Role.CUSTOMER_SERVICE)],
        "refund_limit": "50.00",
        "prefix": "AUR",
        "skus": [
            ("TEE-BLK-M", "Classic tee, black, M", "19.00", 120),
            ("TEE-WHT-L", "Classic tee, white, L", "19.00", 80),
            ("HOOD-GRY-M", "Hoodie, grey, M", "49.00", 40),
            ("CAP-NVY", "Baseball cap, navy", "15.00", 60),
            ("SOCK-3PK", "Socks, 3-pack", "12.00", 200),
            ("JKT-RAIN-S", "Rain jacket, S", "89.00", 12),
            ("SCARF-WL", "Wool scarf", "29.00", 2),
            ("BELT-LTH", "Leather belt", "35.00", 0),
        ],
    },
    {
        "slug": "borealis-home",
        "name": "Borealis Home",
        "time_zone": "Europe/Berlin",
        "currency": "EUR",
        "seller": "bob",
        "prefix": "BOR",
        "skus": [
            ("MUG-STN-350", "Stoneware mug 350 ml", "14.00", 150),
            ("CNDL-SOY-L", "Soy candle, large", "24.00", 70),
            ("THROW-KNT", "Knitted throw", "59.00", 25),
            ("LAMP-DSK", "Desk lamp", "45.00", 30),
            ("PLNT-POT-M", "Plant pot, medium", "18.00", 90),
            ("TOWEL-SET", "Towel set", "39.00", 3),
        ],
    },
]

# A Vietnamese shop: its seller minh reads the Seller Center in Vietnamese, sells in dong (no
# minor unit) on Ho Chi Minh City time, and ships what it ships itself by GHN (shipping.demo).
SHOPS.append({
    "slug": "lua-sai-gon",
    "name": "Lụa Sài Gòn",
    "time_zone": "Asia/Ho_Chi_Minh",
    "currency": "VND",
    "seller": "minh",
    "language": "vi",
    "prefix": "LSG",
    "skus": [
        ("AODAI-DO-M", "Áo dài lụa tơ tằm, đỏ, M", "1250000", 40),
        ("KHAN-LUA", "Khăn lụa Vạn Phúc", "350000", 120),
        ("NON-LA", "Nón lá Huế", "150000", 80),
        ("TUI-COI", "Túi cói thủ công", "420000", 60),
        ("AOBABA-L", "Áo bà ba, L", "650000", 25),
        ("DEP-GO", "Dép gỗ mộc", "280000", 3),
    ],
    "buyers": {
        "first": ["Nguyễn Thị Hương", "Trần Văn Minh", "Lê Thị Lan", "Phạm Quốc Bảo", "Hoàng Thu Trang",
                  "Võ Thanh Tùng", "Đặng Ngọc Ánh", "Bùi Đức Huy", "Đỗ Mỹ Linh", "Huỳnh Gia Hân"],
        "streets": ["Nguyễn Huệ", "Lê Lợi", "Hai Bà Trưng", "Trần Hưng Đạo", "Điện Biên Phủ", "Phan Đình Phùng"],
        # (ward, district, province or city, postal code)
        "places": [("Phường Bến Nghé", "Quận 1", "Thành phố Hồ Chí Minh", "700000"),
                   ("Phường Võ Thị Sáu", "Quận 3", "Thành phố Hồ Chí Minh", "700000"),
                   ("Phường Hàng Trống", "Quận Hoàn Kiếm", "Hà Nội", "100000"),
                   ("Phường Thạch Thang", "Quận Hải Châu", "Đà Nẵng", "550000"),
                   ("Phường Vĩnh Ninh", "Thành phố Huế", "Thừa Thiên Huế", "530000")],
        "phone": "+849",
        "locale": "vi-VN",
        "country": "VN",
    },
})

# Each shop's warehouses: the default (all stock to start with) and a second one holding some of it.
WAREHOUSES = {
    "aurora-apparel": [
        {"name": "Brooklyn warehouse", "contact_name": "Aurora Apparel dispatch", "phone": "+1 718 555 0100",
         "line1": "220 Kent Ave", "line2": "Unit 4", "city": "Brooklyn", "region": "NY", "postal_code": "11249",
         "country": "US", "opening_hours": "Mon–Fri 08:00–18:00", "return_same": False,
         "return_name": "Aurora Apparel returns", "return_line1": "220 Kent Ave", "return_line2": "Returns door B",
         "return_city": "Brooklyn", "return_region": "NY", "return_postal_code": "11249", "return_country": "US"},
        {"name": "Newark overflow", "contact_name": "Aurora Apparel overflow", "line1": "80 Doremus Ave",
         "city": "Newark", "region": "NJ", "postal_code": "07105", "country": "US",
         "opening_hours": "Mon–Sat 07:00–15:00", "return_same": True},
    ],
    "borealis-home": [
        {"name": "Lager Berlin", "contact_name": "Borealis Home Versand", "phone": "+49 30 5550100",
         "line1": "Am Wriezener Bahnhof 3", "city": "Berlin", "postal_code": "10243", "country": "DE",
         "opening_hours": "Mo–Fr 09:00–17:00", "return_same": True},
        {"name": "Lager Leipzig", "line1": "Maximilianallee 40", "city": "Leipzig", "postal_code": "04129",
         "country": "DE", "opening_hours": "Mo–Fr 07:00–16:00", "return_same": True},
    ],
    "lua-sai-gon": [
        {"name": "Kho Quận 7", "contact_name": "Lụa Sài Gòn giao hàng", "phone": "+84 28 3777 0100",
         "line1": "15 Nguyễn Văn Linh", "line2": "Phường Tân Phong, Quận 7", "city": "Thành phố Hồ Chí Minh",
         "postal_code": "700000", "country": "VN", "opening_hours": "T2–T7 08:00–17:30", "return_same": True},
        {"name": "Kho Hà Nội", "line1": "88 Láng Hạ", "line2": "Phường Láng Hạ, Quận Đống Đa", "city": "Hà Nội",
         "postal_code": "100000", "country": "VN", "opening_hours": "T2–T6 08:00–17:00", "return_same": True},
    ],
}

# How many demo orders of each shop end in each status.
MIX = [
    (S.UNPAID, 14),
    (S.AWAITING_CONFIRMATION, 36),
    (S.AWAITING_SHIPMENT, 30),
    (S.AWAITING_COLLECTION, 18),
    (S.IN_TRANSIT, 20),
    (S.DELIVERED, 16),
    (S.COMPLETED, 14),
    (S.CANCELLED, 12),
]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia"]
LAST = ["Rivera", "Okafor", "Nguyen", "Schmidt", "Khan", "Rossi", "Tanaka", "Silva", "Berg", "Moreau"]
CITIES = [("Springfield", "IL", "62701", "US"), ("Portland", "OR", "97201", "US"), ("Berlin", "BE", "10115", "DE"),
          ("Lyon", "ARA", "69001", "FR"), ("Austin", "TX", "73301", "US")]


def _user(username, *, staff=False, language=""):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if language:  # the member's own language (shops.MemberProfile), whatever their browser says
        MemberProfile.objects.get_or_create(user=user, defaults={"language": language})
    return user


def _later(start, now, most):
    """A story step after `start` by `most`, or by a quarter of what is left before `now`."""
    return start + min(most, max(now - start, timedelta(0)) / 4)


def _ship(order, target, actor, now):
    """Walk a confirmed order to `target` through shipping when it exists, else orders."""
    try:
        from shipping.demo import ship_demo_order  # seller_center sits above shipping
    except ImportError:
        ship_demo_order = None
    if ship_demo_order is not None:
        return ship_demo_order(order, target, now=now)
    at = order.confirmed_at
    steps = [
        (S.AWAITING_SHIPMENT, actions.arrange_shipment),
        (S.AWAITING_COLLECTION, actions.mark_in_transit),
        (S.IN_TRANSIT, actions.mark_delivered),
        (S.DELIVERED, actions.complete_order),
    ]
    for status, step in steps:
        if order.status == target:
            break
        if order.status == status:
            at = _later(at, now, timedelta(days=2))
            order = step(order=order, actor=actor, at=at)
    return order


def _make_order(shop, spec, skus, seller, index, target, now):
    rng = random.Random(f"{shop.slug}-{index}")
    number = f"{spec['prefix']}-{100000 + index}"
    if Order.objects.filter(number=number).exists():
        return None
    # Older orders sit further along the lifecycle; new ones are hours old.
    age_hours = {
        S.UNPAID: (0.2, 20), S.AWAITING_CONFIRMATION: (0.1, 60), S.AWAITING_SHIPMENT: (2, 80),
        S.AWAITING_COLLECTION: (10, 70), S.IN_TRANSIT: (30, 160), S.DELIVERED: (90, 300),
        S.COMPLETED: (300, 900), S.CANCELLED: (5, 400),
    }[target]
    placed_at = now - timedelta(hours=rng.uniform(*age_hours))
    # Paid a few minutes after checkout, never later than the present.
    paid_at = _later(placed_at, now, timedelta(minutes=rng.randint(1, 40)))
    in_stock = [s for s in skus if s.available >= 10]
    picks = rng.sample(in_stock, k=rng.choice([1, 1, 1, 2, 2, 3]))
    if target == S.AWAITING_CONFIRMATION and index % 9 == 0:
        picks.append(next((s for s in skus if s.available < 5), picks[0]))  # a few cannot be confirmed
    buyers = spec.get("buyers")
    if buyers:  # the shop's own market: its names, its streets, its address parts
        name = rng.choice(buyers["first"])
        ward, district, city, postal = rng.choice(buyers["places"])
        email_name = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
        email_name = ".".join(email_name.encode("ascii", "ignore").decode().lower().split()[-2:])
        buyer = {"name": name, "email": f"{email_name}{index}@example.com",
                 "phone": f"{buyers['phone']}{rng.randint(10000000, 99999999)}",
                 "address": {"line1": f"{rng.randint(1, 299)} {rng.choice(buyers['streets'])}", "line2": "",
                             "subdistrict": ward, "district": district, "city": city, "region": "",
                             "postal_code": postal, "country": buyers["country"]}}
        language = language_of_locale(buyers["locale"])
    else:
        city, region, postal, country = rng.choice(CITIES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        buyer = {
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{index}@example.com",
            "phone": f"+1555{rng.randint(1000000, 9999999)}",
            "address": {"line1": f"{rng.randint(1, 999)} {rng.choice(['Oak', 'Main', 'Elm', 'Lake'])} St",
                        "line2": "", "city": city, "region": region, "postal_code": postal, "country": country},
        }
        language = ""
    order = actions.receive_order(
        shop=shop,
        number=number,
        placed_at=placed_at,
        paid_at=None if target == S.UNPAID or (target == S.CANCELLED and index % 2) else paid_at,
        currency=shop.currency,
        shipping_model=rng.choice([Order.ShippingModel.PLATFORM, Order.ShippingModel.PLATFORM, Order.ShippingModel.SELLER]),
        buyer=buyer,
        lines=[(s, rng.choice([1, 1, 2, 3]), s.price) for s in dict.fromkeys(picks)],
        at=placed_at,
        language=language,
    )
    seller_actor = Actor.seller(seller)
    if target in (S.UNPAID, S.AWAITING_CONFIRMATION):
        return order
    # The seller confirms within a couple of hours of payment.
    confirm_at = _later(order.paid_at or placed_at, now, timedelta(hours=2))
    if target == S.CANCELLED:
        if order.status == S.AWAITING_CONFIRMATION and index % 3 == 0:
            order = actions.confirm_order(order=order, actor=seller_actor, at=confirm_at)
        if order.status == S.UNPAID:
            # The payment window (P1) closed, or as much of it as the story has had.
            unpaid_until = min(placed_at + policy_windows.window("P1").delta, now - timedelta(minutes=1))
            return actions.cancel_order(order=order, actor=Actor.policy("P1"), reason="unpaid", at=unpaid_until)
        reason = rng.choice(["out_of_stock", "buyer_requested", "pricing_error", "damaged_or_expired"])
        return actions.cancel_order(order=order, actor=seller_actor, reason=reason,
                                    at=_later(order.confirmed_at or confirm_at, now, timedelta(hours=3)))
    order = actions.confirm_order(order=order, actor=seller_actor, at=confirm_at)
    return _ship(order, target, seller_actor, now)


@transaction.atomic
def _warehouses(shop, seller, skus, now):
    """The default warehouse gets its address, bins for the SKUs; a second warehouse receives a share of
    the first SKUs (the stock ledger shows it), and asks for a holiday next month that staff can answer."""
    specs = WAREHOUSES.get(shop.slug)
    if not specs:
        return
    actor = Actor.seller(seller)
    main = stock.default_warehouse(shop.pk)
    if not main.line1:
        warehouses.edit_warehouse(warehouse=main, actor=actor, values=specs[0])
    for i, sku in enumerate(skus):
        WarehouseStock.objects.filter(warehouse=main, sku=sku, bin_location="").update(
            bin_location=f"A-{i // 4 + 1:02d}-{i % 4 + 1}")
    if Warehouse.objects.filter(shop=shop, name=specs[1]["name"]).exists():
        return
    second = warehouses.create_warehouse(shop=shop, actor=actor, values=specs[1])
    for i, sku in enumerate(skus[:3]):
        stock.change_stock(sku=sku, actor=actor, reason="received", on_hand=8 + 4 * i, warehouse=second,
                           note="Pallet from the supplier", bin_location=f"R-{i + 1:02d}", at=now - timedelta(days=3))
    start = (now + timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
    warehouses.request_holiday(warehouse=second, actor=actor, start=start, end=start + timedelta(days=4),
                               reason="Stocktake and yearly maintenance of the racking")


def seed(stdout=None, scale=1.0):
    """`scale` shrinks the order mix (tests use a fraction; the demo uses all of it)."""
    now = timezone.now()
    staff = _user("staff", staff=True)
    created = 0
    for spec in SHOPS:
        shop, _ = Shop.objects.get_or_create(
            slug=spec["slug"],
            defaults={"name": spec["name"], "time_zone": spec["time_zone"], "currency": spec["currency"],
                      "email": f"orders@{spec['slug']}.example.com",
                      "refund_limit": Decimal(spec.get("refund_limit", "0.00"))},
        )
        seller = _user(spec["seller"], language=spec.get("language", ""))
        Membership.objects.get_or_create(shop=shop, user=seller, defaults={"role": Membership.Role.OWNER})
        for username, role in spec.get("team", ()):
            Membership.objects.get_or_create(shop=shop, user=_user(username), defaults={"role": role})
        skus = []
        for code, name, price, units in spec["skus"]:
            # Stock is topped up generously so every demo confirm succeeds; the low
            # ones stay low so sellers can see an out-of-stock refusal.
            sku, _ = SKU.objects.get_or_create(
                shop=shop, code=code,
                defaults={"name": name, "price": Decimal(price), "stock_on_hand": units * 3 if units >= 10 else units},
            )
            skus.append(sku)
        _warehouses(shop, seller, skus, now)
        index = 0
        for target, count in MIX:
            for _ in range(max(1, round(count * scale))):
                index += 1
                if _make_order(shop, spec, skus, seller, index, target, now) is not None:
                    created += 1
                    for sku in skus:
                        sku.refresh_from_db(fields=["stock_on_hand", "reserved"])
    if stdout:
        stdout.write(f"Demo ready: {created} new orders ({Order.objects.count()} in all).\n")
        stdout.write("Logins (development only), password 'demo':\n")
        site = settings.RETURNS_PUBLIC_BASE_URL.rstrip("/")  # PUBLIC_BASE_URL; make run sets it from HOST and PORT
        stdout.write(f"  alice  -> seller of Aurora Apparel   {site}/\n")
        stdout.write("  carol  -> Aurora Apparel, Fulfilment\n")
        stdout.write("  dave   -> Aurora Apparel, Customer service\n")
        stdout.write("  bob    -> seller of Borealis Home\n")
        stdout.write("  minh   -> seller of Lụa Sài Gòn (Vietnamese, VND, Asia/Ho_Chi_Minh)\n")
        stdout.write(f"  {staff.username}  -> platform staff           {site}/admin/\n")
    return created
