"""Benchmark of the carrier tracking feed: events per second through the HTTP endpoint
(gunicorn workers on loopback), single events and batches, and the ingest function alone.

Run it against a database of its own (it adds a "bench-tracking" shop and its events):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py bench_tracking

The load comes from wrk (`apt-get install wrk`), a separate C process: every request is signed
beforehand and written to a file its Lua script reads, each event id sent once (plus the chosen
share of deliberate repeats), so the figure measures the server and not the client. Without wrk
the command falls back to Python client threads in this process, which cost several times the
CPU per request and take it from the server's cores; it says so when it does.

After each run it counts in the database that every distinct event id was stored exactly once
and that failed attempts went up by exactly the distinct AttemptFail events, and prints where
the machine's cores went (gunicorn workers, PostgreSQL backends, the load generator, and any
other process: on a shared machine the events/s move with the last one).
"""

import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.actor import Actor
from core.signing import sign
from orders import actions as order_actions
from shipping import actions, tracking
from shipping.models import Package, TrackingEvent
from shops.models import SKU, Shop

P = Package.Status
ACTOR = Actor.policy("bench")
TAGS = [("InTransit", "InTransit_003")] * 8 + [("OutForDelivery", "OutForDelivery_001"), ("AttemptFail", "AttemptFail_001")]
# Where TAGS leave a bench package (and where setup starts it): with the carrier, never delivered.
BENCH_STATES = frozenset({P.IN_TRANSIT, P.OUT_FOR_DELIVERY, P.FAILED_ATTEMPT})
URL = "/api/carriers/events/"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Sync workers, CPU-bound requests with short database waits: twice the cores plus one keeps
# both cores busy while some workers wait on PostgreSQL (gunicorn's own rule of thumb).
DEFAULT_WORKERS = 2 * (os.cpu_count() or 2) + 1
WRK_WATCHDOG_SECONDS = 1200

# wrk's Lua: thread k of n sends lines k, k+n, k+2n ... of the request file, each once, then
# reports "done" and stops. wrk calls thread 0's request() once before the run to check the
# request parses; that call must not use up a request. A connection that asks for more after
# its thread ran out waits 20 ms, then sends a request gunicorn refuses in its HTTP parser (400,
# HTML body) before Django runs: no sync worker waits on an idle socket for long, and the tail of
# the run costs the server next to nothing. With no more connections than workers, no real
# request ever queues behind one of those.
WRK_LUA = r"""
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  local host = wrk.headers["Host"]
  reqs, sent, answered, codes, fillers, checked = {}, 0, 0, {}, 0, id ~= 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local method, target, signature, body = line:match("^(%u+)\t(%S+)\t(%S*)\t(.*)$")
      if method == "POST" then
        reqs[#reqs + 1] = wrk.format("POST", target, {["Host"] = host, ["Content-Type"] = "application/json",
                                                       ["X-Signature"] = signature}, body)
      else
        reqs[#reqs + 1] = wrk.format("GET", target, {["Host"] = host})
      end
    end
    i = i + 1
  end
  filler = "bench-idle / HTTP/1.1\r\nHost: " .. host .. "\r\n\r\n"
end

function delay()
  if sent >= #reqs then return 20 end
  return 0
end

function request()
  if not checked then
    checked = true
    return reqs[1] or filler
  end
  sent = sent + 1
  if sent <= #reqs then return reqs[sent] end
  return filler
end

function response(status, headers, body)
  if status == 400 and body:sub(1, 1) == "<" then
    fillers = fillers + 1
  else
    codes[status] = (codes[status] or 0) + 1
    answered = answered + 1
    if answered == #reqs then
      io.write("done\n")
      io.flush()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local total, idle = {}, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("codes")) do total[status] = (total[status] or 0) + n end
    idle = idle + t:get("fillers")
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  io.write(string.format('bench {"duration_us": %d, "codes": {%s}, "fillers": %d, "p50_us": %d, "p99_us": %d, '
                         .. '"errors": %d}\n', summary.duration, table.concat(parts, ", "), idle,
                         latency:percentile(50), latency:percentile(99),
                         summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pids):
    """{pid: user + system CPU seconds} of the live ones among `pids` (Linux /proc)."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return seconds


def _cpu_used(before, after):
    """CPU seconds between two _cpu_seconds readings, and whether some process ended meanwhile
    (its last part is then missing: persistent database connections are recycled after CONN_MAX_AGE)."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after), any(pid not in after for pid in before)


def _machine_busy_seconds():
    """CPU seconds every core spent busy since boot (all processes on the machine)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLK_TCK


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except OSError:
                pass
    return kids


class Command(BaseCommand):
    help = "Events/s of the carrier feed over HTTP (single and batched) and µs/event of the ingest function."

    def add_arguments(self, parser):
        parser.add_argument("--packages", type=int, default=300, help="Packages in transit to send events for.")
        parser.add_argument("--single", type=int, default=6000, help="Single-event requests (before repeats).")
        parser.add_argument("--batches", type=int, default=120, help="Batched requests (before repeats).")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                            help=f"gunicorn sync workers (default 2 x cores + 1 = {DEFAULT_WORKERS}).")
        parser.add_argument("--threads", type=int, default=1,
                            help="Threads per gunicorn worker: more than 1 runs gthread workers, which keep client "
                                 "connections alive (behind a proxy that keeps upstream connections open).")
        parser.add_argument("--connections", "--clients", type=int, default=None, dest="connections",
                            help="Concurrent client connections (default: one per gunicorn worker, which keeps every "
                                 "sync worker busy without queueing requests behind each other).")
        parser.add_argument("--load", choices=["wrk", "python"], default=None,
                            help="Load generator: wrk (default when installed) or Python threads in this process.")
        parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (one keeps up with several thousand requests/s).")
        parser.add_argument("--duplicates", type=float, default=0.1, help="Share of events sent twice.")
        parser.add_argument("--ingest-events", type=int, default=20000, help="Events for the in-process ingest timing.")
        parser.add_argument("--async-commit", action="store_true",
                            help="Run with CARRIER_FEED_ASYNC_COMMIT on (PostgreSQL: commits do not wait for the WAL flush).")
        parser.add_argument("--both-commit-modes", action="store_true",
                            help="Run the HTTP figures twice: durable commits, then CARRIER_FEED_ASYNC_COMMIT.")

    def handle(self, *args, **opt):
        if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
            raise CommandError("bench_tracking needs a database file or server that gunicorn can share.")
        # As in production: DEBUG would record every query's SQL and skew the in-process timing.
        settings.DEBUG = False
        self.rng = random.Random(7)
        opt["connections"] = opt["connections"] or opt["workers"] * opt["threads"]
        self.async_commit = opt["async_commit"]
        settings.CARRIER_FEED_ASYNC_COMMIT = self.async_commit
        self.load = opt["load"] or ("wrk" if shutil.which("wrk") else "python")
        if self.load == "wrk" and not shutil.which("wrk"):
            raise CommandError("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), or pass --load python.")
        self.clock = timezone.now()
        packages = self.setup(opt["packages"])
        self.package_ids = [p.pk for p in packages]
        vacuumed = self.vacuum()
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
        self.stdout.write(
            f"database: {connection.vendor}; {len(packages)} packages in transit; {opt['workers']} gunicorn sync workers; "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run\n"
            f"carrier feed commits: {self.commit_mode(opt)}")
        if vacuumed:
            self.stdout.write(vacuumed)
        if self.load == "wrk":
            self.stdout.write(f"load generator: wrk, {opt['wrk_threads']} thread(s), {opt['connections']} connections, "
                              f"pre-signed bodies read from a file")
        else:
            self.stdout.write(self.style.WARNING(
                "load generator: Python threads in this process (wrk not found; `apt-get install wrk`). "
                "They cost about as much CPU as the server on the same cores: the figures below are the client's limit too."))

        # 1. The ingest function alone, in this process.
        per_event = self.bench_ingest(packages, opt["ingest_events"], opt["batch_size"])
        self.stdout.write(f"ingest function alone: {per_event:.1f} µs/event "
                          f"({1e6 / per_event:,.0f} events/s, batches of {opt['batch_size']})")

        # 2. HTTP through gunicorn: with durable commits (the default), or asynchronous ones, or both.
        modes = [False, True] if opt["both_commit_modes"] else [self.async_commit]
        try:
            for async_commit in modes:
                self.http_phases(packages, opt, async_commit)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def http_phases(self, packages, opt, async_commit):
        mode = "asynchronous commits" if async_commit else "durable commits"
        port = _free_port()
        server = self.start_gunicorn(port, opt["workers"], opt["threads"], async_commit)
        try:
            run = uuid.uuid4().hex[:8]
            n = min(opt["single"], 2000)
            self.http("baseline GET /healthz (one SELECT 1 a request: the ceiling of any endpoint here)", port, opt,
                      [("GET", "/healthz", None)] * n, events=n, unit="requests")

            singles = self.make_events(packages, opt["single"], f"s{run}")
            sent = self.with_duplicates(singles, opt["duplicates"])
            self.http(f"single events, {mode}", port, opt, [("POST", URL, json.dumps(e).encode()) for e in sent],
                      events=len(sent), unique=singles, prefix=f"s{run}-", target=500)

            events = self.make_events(packages, opt["batches"] * opt["batch_size"], f"b{run}")
            sent = self.with_duplicates(events, opt["duplicates"])
            size = opt["batch_size"]
            self.http(f"batches of {size}, {mode}", port, opt,
                      [("POST", URL, json.dumps({"events": sent[i:i + size]}).encode()) for i in range(0, len(sent), size)],
                      events=len(sent), unique=events, prefix=f"b{run}-", target=10_000)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()

    def commit_mode(self, opt):
        if opt["both_commit_modes"]:
            return ("durable (CARRIER_FEED_ASYNC_COMMIT=false, the default), then asynchronous (true); "
                    f"the ingest function alone runs {'asynchronous' if self.async_commit else 'durable'}")
        if self.async_commit:
            return "ASYNCHRONOUS (CARRIER_FEED_ASYNC_COMMIT=true: a database crash may lose events already answered 2xx)"
        return "durable (CARRIER_FEED_ASYNC_COMMIT=false, the default)"

    # --- setup ------------------------------------------------------------------------------

    def setup(self, n):
        shop, _ = Shop.objects.get_or_create(slug="bench-tracking", defaults={"name": "Bench tracking", "currency": "USD"})
        sku, _ = SKU.objects.get_or_create(shop=shop, code="BENCH", defaults={"name": "Bench item", "price": Decimal("1.00"),
                                                                             "stock_on_hand": 10**9})
        have = list(Package.objects.filter(shop=shop, status__in=BENCH_STATES))
        if len(have) < n:
            self.stdout.write(f"creating {n - len(have)} orders in transit through the actions ...")
            now = timezone.now()
            for i in range(n - len(have)):
                order = order_actions.receive_order(
                    shop=shop, number=f"BENCH-{uuid.uuid4().hex[:12]}", placed_at=now - timedelta(hours=2), paid_at=now,
                    currency="USD", shipping_model="PLATFORM", lines=[(sku, 1, Decimal("1.00"))],
                    buyer={"name": f"Bench {i}", "email": "b@example.com",
                           "address": {"line1": "1 Bench St", "city": "Loop", "country": "US"}},
                )
                order_actions.confirm_order(order=order, actor=ACTOR)
                (pkg,) = actions.arrange_platform_shipment(order=order, actor=ACTOR, handover="DROP_OFF",
                                                           dropoff_point="SCX-DP-001")
                pkg = actions.mark_ready(package=pkg, actor=ACTOR)
                tracking.receive([{"event_id": f"bench-start-{pkg.pk}", "carrier": pkg.carrier,
                                   "tracking_number": pkg.tracking_number, "tag": "InTransit", "subtag": "",
                                   "occurred_at": now.isoformat(), "location": "", "message": ""}])
            have = list(Package.objects.filter(shop=shop, status__in=BENCH_STATES))
        return have[:n]

    def vacuum(self):
        """Every run rewrites the same few hundred package rows tens of thousands of times; without
        a vacuum between runs (autovacuum does it in production) their dead versions pile up and
        each run measures a slower table than the one before."""
        if connection.vendor != "postgresql":
            return ""
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            (autovacuum,) = cursor.fetchone()
            for model in (Package, TrackingEvent):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        return (f"VACUUM ANALYZE of packages and tracking events before measuring: {time.perf_counter() - start:.1f} s "
                f"(autovacuum is {autovacuum} on this server)")

    def make_events(self, packages, n, prefix):
        events = []
        for i in range(n):
            pkg = packages[i % len(packages)]
            tag, subtag = self.rng.choice(TAGS)
            self.clock += timedelta(milliseconds=1)
            events.append({"event_id": f"{prefix}-{i}", "carrier": pkg.carrier, "tracking_number": pkg.tracking_number,
                           "tag": tag, "subtag": subtag, "occurred_at": self.clock.isoformat(),
                           "location": "Regional hub", "message": "bench"})
        return events

    def with_duplicates(self, events, share):
        dups = self.rng.sample(events, int(len(events) * share))
        out = events + dups
        self.rng.shuffle(out)
        return out

    def attempts(self):
        return Package.objects.filter(pk__in=self.package_ids).aggregate(n=Sum("failed_attempts"))["n"] or 0

    # --- measuring ---------------------------------------------------------------------------

    def bench_ingest(self, packages, n, size):
        events = self.make_events(packages, n, f"i{uuid.uuid4().hex[:8]}")
        start = time.perf_counter()
        for i in range(0, n, size):
            tracking.receive(events[i:i + size])
        return (time.perf_counter() - start) / n * 1e6

    def start_gunicorn(self, port, workers, threads, async_commit):
        env = {**os.environ, "DEBUG": "false", "SECURE_SSL_REDIRECT": "false",
               "LOG_LEVEL": "WARNING",
               "DJANGO_SETTINGS_MODULE": "seller_center.bench_settings" if async_commit else "seller_center.settings",
               "CARRIER_SECRET": settings.CARRIER_SECRET}
        cmd = [sys.executable, "-m", "gunicorn", "seller_center.wsgi:application", "-w", str(workers),
               *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
               "-b", f"127.0.0.1:{port}", "--log-level", "error", "--backlog", "2048", "--timeout", "120"]
        self.stdout.write(f"server: {' '.join(cmd[1:])}")
        # The workers' log (4xx warnings of the deliberate repeats, wrk's fillers) goes to a file.
        self.server_log = self.tmp / "gunicorn.log"
        with open(self.server_log, "wb") as log:
            server = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    self.server_pid = server.pid
                    return server
            except OSError:
                time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not start:\n" + self.server_log_tail())

    def backends(self):
        """PostgreSQL server processes of the benchmark's database (none when it is not on this machine)."""
        if connection.vendor != "postgresql" or connection.settings_dict["HOST"] not in ("127.0.0.1", "localhost", "", "::1"):
            return []
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            return [pid for (pid,) in cursor.fetchall()]

    def server_log_tail(self, lines=20):
        try:
            return "\n".join(self.server_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def warm(self, port, workers):
        """Every worker imports, connects to the database and runs a query before timing."""
        def get(_):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()

        with ThreadPoolExecutor(workers * 2) as pool:
            list(pool.map(get, range(workers * 8)))

    def http(self, label, port, opt, requests, *, events, unique=None, prefix=None, target=None, unit="events"):
        self.warm(port, opt["workers"])
        attempts_before = self.attempts() if unique is not None else 0
        before = {"gunicorn": _cpu_seconds(_children(self.server_pid)), "postgres": _cpu_seconds(self.backends())}
        machine = _machine_busy_seconds()
        if self.load == "wrk":
            elapsed, codes, latency, client_cpu = self.fire_wrk(port, opt, requests)
        else:
            elapsed, codes, latency, client_cpu = self.fire_python(port, opt["connections"], requests)
        after = {"gunicorn": _cpu_seconds(_children(self.server_pid)), "postgres": _cpu_seconds(self.backends())}
        cpu = {key: _cpu_used(before[key], after[key]) for key in before if before[key] or after[key]}
        machine = _machine_busy_seconds() - machine if machine is not None else None

        if any(isinstance(c, int) and c >= 500 for c in codes):
            self.stdout.write(self.style.ERROR("server errors; the end of gunicorn's log:\n" + self.server_log_tail()))
        rate = events / elapsed if elapsed else 0
        line = (f"HTTP {label}: {rate:,.0f} {unit}/s ({len(requests)} requests")
        if unit == "events":
            line += f", {events} events incl. {events - len(unique)} repeats"
        line += f", in {elapsed:.2f} s; responses {dict(sorted(codes.items(), key=lambda kv: str(kv[0])))}"
        if latency:
            line += f"; latency p50 {latency[0] / 1000:.1f} ms, p99 {latency[1] / 1000:.1f} ms"
        self.stdout.write(line + ")")
        if target is not None:
            stored = TrackingEvent.objects.filter(event_id__startswith=prefix).count()
            attempts = self.attempts() - attempts_before
            expected_attempts = sum(1 for e in unique if e["tag"] == "AttemptFail")
            verdict = (self.style.SUCCESS(f"meets the {target:,}/s target") if rate >= target
                       else self.style.ERROR(f"BELOW the {target:,}/s target"))
            once = ("every event stored exactly once" if stored == len(unique)
                    else self.style.ERROR(f"MISMATCH: {stored} stored for {len(unique)} distinct event ids"))
            counted = ("each failed attempt counted once" if attempts == expected_attempts
                       else self.style.ERROR(f"MISMATCH: failed attempts +{attempts}, expected +{expected_attempts}"))
            self.stdout.write(f"  {verdict}; {once} ({stored} of {len(unique)} distinct ids, "
                              f"{events - len(unique)} repeats); {counted} (+{attempts})")
        # Where the cores went during the run: the server's share, the client's, and whatever
        # else runs on the machine (a shared machine makes the figures above noisy).
        n = len(requests)
        per_event = unit == "events" and events > n

        def share(seconds):
            text = f"{seconds / elapsed:.2f} cores, {seconds / n * 1e3:.2f} ms/request"
            return text + (f", {seconds / events * 1e6:.0f} µs/event" if per_event else "")

        parts = [f"{name} {'at least ' if partial else ''}{share(seconds)}"
                 for key, name in (("gunicorn", "gunicorn workers"), ("postgres", "PostgreSQL backends")) if key in cpu
                 for seconds, partial in [cpu[key]]]
        parts.append(f"load generator {share(client_cpu)}")
        if machine is not None:
            ours = sum(seconds for seconds, _ in cpu.values()) + client_cpu
            parts.append(f"other processes {max(0.0, machine - ours) / elapsed:.2f} cores")
        self.stdout.write(f"  CPU ({os.cpu_count()} cores): " + "; ".join(parts))

    def fire_wrk(self, port, opt, requests):
        secret = settings.CARRIER_SECRET
        path = self.tmp / "requests.tsv"
        with open(path, "wb") as f:
            for method, target, body in requests:
                signature = sign(body, secret).encode() if body is not None else b""
                f.write(b"\t".join([method.encode(), target.encode(), signature, body or b""]) + b"\n")
        script = self.tmp / "tracking.lua"
        script.write_text(WRK_LUA)
        threads = max(1, min(opt["wrk_threads"], len(requests)))
        connections = max(threads, opt["connections"])
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", "3600s", "--timeout", "120s",
               "-s", str(script), f"http://127.0.0.1:{port}{URL}", "--", str(path), str(threads)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # wrk runs for its -d duration whatever its threads do: once every thread reports its
        # share answered, SIGINT ends the run and wrk prints its summary (its clock stops there).
        # A request that never gets its answer (a dropped connection) would keep wrk waiting:
        # the watchdog ends the run, reported below as unfinished.
        watchdog = threading.Timer(WRK_WATCHDOG_SECONDS, proc.send_signal, [signal.SIGINT])
        watchdog.start()
        output, finished = [], 0
        try:
            for raw in proc.stdout:
                output.append(raw)
                if raw.strip() == "done":
                    finished += 1
                    if finished == threads:
                        proc.send_signal(signal.SIGINT)
            proc.wait()
        finally:
            watchdog.cancel()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        match = next((re.match(r"bench (\{.*\})", line) for line in output if line.startswith("bench ")), None)
        if finished != threads or not match:
            raise CommandError("wrk did not finish its requests:\n" + "".join(output))
        result = json.loads(match.group(1))
        if result["errors"]:
            self.stdout.write(self.style.WARNING(f"  wrk reported {result['errors']} socket errors or timeouts"))
        codes = {int(k): v for k, v in result["codes"].items()}
        if result["fillers"]:
            codes["400 (wrk's idle connections, refused by gunicorn before Django)"] = result["fillers"]
        return result["duration_us"] / 1e6, codes, (result["p50_us"], result["p99_us"]), client_cpu

    def fire_python(self, port, clients, requests):
        secret = settings.CARRIER_SECRET
        signed = [(method, target, body, sign(body, secret) if body is not None else "") for method, target, body in requests]
        latencies = []
        lock = threading.Lock()

        def send(item):
            method, target, body, signature = item
            t = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            headers = {"Host": "127.0.0.1"}
            if body is not None:
                headers.update({"Content-Type": "application/json", "X-Signature": signature})
            conn.request(method, target, body, headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            with lock:
                latencies.append(time.perf_counter() - t)
            return response.status

        cpu = time.process_time()
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            codes = list(pool.map(send, signed))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        counts = {}
        for c in codes:
            counts[c] = counts.get(c, 0) + 1
        latencies.sort()
        pick = (latencies[len(latencies) // 2] * 1e6, latencies[int(len(latencies) * 0.99)] * 1e6) if latencies else None
        return elapsed, counts, pick, cpu
