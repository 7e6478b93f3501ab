"""Throughput of Manage Orders through gunicorn on this machine: wrk on page 1 of the list with a
logged-in session against the same server's /healthz (issue 16, point 3), in alternating rounds so
that both see the same load. The ratio is the target: the list's requests per second over what
the server answers for its cheapest page (a database round trip and a JSON body)."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from orders.models import Order
from shops.models import Shop

from .generate_orders import BENCH_SHOP, BENCH_USER

MIN_RATIO = 0.2  # page 1 req/s / /healthz req/s
# Sync workers, as production runs them (docs/operations.md): twice the cores plus one keeps both
# cores busy while some workers wait on PostgreSQL.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 2) + 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load():
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


class Command(BaseCommand):
    help = (
        f"Requests per second of Manage Orders page 1 (logged in as '{BENCH_USER}' on '{BENCH_SHOP}'; run "
        "generate_orders first) against /healthz on the same gunicorn, measured with wrk in alternating rounds; "
        f"target: page 1 / healthz >= {MIN_RATIO}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn sync workers.")
        parser.add_argument("--seconds", type=int, default=10, help="Length of each wrk round.")
        parser.add_argument("--rounds", type=int, default=3, help="Rounds of (healthz, page 1).")
        parser.add_argument("--connections", type=int, default=8, help="wrk's open connections.")
        parser.add_argument("--threads", type=int, default=2, help="wrk's threads.")

    def handle(self, *args, workers, seconds, rounds, connections, threads, **options):
        if shutil.which("wrk") is None:
            raise CommandError("wrk is not installed (apt-get install -y wrk).")
        shop = Shop.objects.filter(slug=BENCH_SHOP).first()
        user = get_user_model().objects.filter(username=BENCH_USER).first()
        if shop is None or user is None:
            raise CommandError(f"No {BENCH_SHOP} shop or {BENCH_USER} user: run generate_orders first.")
        # A session in the database (the session engine every worker reads), as a login leaves it.
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        page = reverse("orders:list", kwargs={"shop": shop.slug})
        port = free_port()
        w = self.stdout.write
        w(f"{connection.vendor}, shop {shop.slug}: {Order.objects.for_shop(shop).count()} orders of "
          f"{Order.objects.count()}; {load()}")
        with tempfile.TemporaryDirectory(prefix="bench-list-http-") as tmp:
            # As a deployment serves: static files collected (the manifest the pages' {% static %} reads).
            env = {**os.environ, "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
                   "WEB_CONCURRENCY": str(workers), "STATIC_ROOT": str(Path(tmp) / "static")}
            subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env,
                           cwd=settings.BASE_DIR, check=True)
            server = self.start_gunicorn(port, workers, env, Path(tmp) / "gunicorn.log")
            try:
                self.log = Path(tmp) / "gunicorn.log"
                self.check_page(port, page, cookie)
                self.warm(port, page, cookie, workers)
                w(f"wrk -t {threads} -c {connections} -d {seconds}s, {rounds} rounds of /healthz then page 1 "
                  f"({page}, logged in)")
                health, listing = [], []
                for i in range(rounds):
                    health.append(self.wrk(port, "/healthz", None, seconds, connections, threads))
                    listing.append(self.wrk(port, page, cookie, seconds, connections, threads))
                    w(f"  round {i + 1}: /healthz {health[-1]:.1f} req/s, page 1 {listing[-1]:.1f} req/s, "
                      f"ratio {listing[-1] / health[-1]:.3f}")
            finally:
                server.terminate()
                server.wait(timeout=30)
        h, p = sorted(health)[len(health) // 2], sorted(listing)[len(listing) // 2]
        ratio = p / h
        ok = ratio >= MIN_RATIO
        w(f"median: /healthz {h:.1f} req/s, page 1 {p:.1f} req/s; page 1 / healthz {ratio:.3f} "
          f"(target >= {MIN_RATIO}) {'PASS' if ok else 'FAIL'}")
        w(load())

    def start_gunicorn(self, port, workers, env, log_path):
        cmd = [sys.executable, "-m", "gunicorn", "seller_center.wsgi:application", "-w", str(workers),
               "-b", f"127.0.0.1:{port}", "--log-level", "error", "--backlog", "2048", "--timeout", "120"]
        self.stdout.write(f"server: {' '.join(cmd[1:])}")
        with open(log_path, "wb") as log:
            server = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return server
            except OSError:
                time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not start:\n" + log_path.read_text(errors="replace")[-2000:])

    def check_page(self, port, page, cookie):
        """Page 1 answers 200 with its rows for the session (not a redirect to the login page)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", page, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        rows = body.count(b'name="ids"')
        if response.status != 200 or not rows:
            raise CommandError(f"GET {page} with the session answered {response.status}, not the list:\n"
                               + self.log.read_text(errors="replace")[-3000:])
        self.stdout.write(f"page 1: 200, {rows} rows, {len(body)} bytes")

    def warm(self, port, page, cookie, workers):
        """Every worker imports, connects and renders the page once before timing."""
        def get(_):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", page, headers={"Cookie": cookie})
            conn.getresponse().read()
            conn.close()

        with ThreadPoolExecutor(workers * 2) as pool:
            list(pool.map(get, range(workers * 6)))

    def wrk(self, port, path, cookie, seconds, connections, threads):
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
               *(["-H", f"Cookie: {cookie}"] if cookie else []), f"http://127.0.0.1:{port}{path}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120).stdout
        rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
        if not rate:
            raise CommandError("wrk printed no rate:\n" + out)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if bad:
            raise CommandError(f"{path}: {bad.group(1)} answers were not 2xx/3xx:\n{out}")
        return float(rate.group(1))
