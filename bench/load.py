"""The shop under load, with faults: gunicorn, Celery and Locust on a database of its own.

Run from the project root (bench/README.md "load.py"):

    .venv/bin/python bench/load.py   # 2 gunicorn workers, 1 Celery worker + beat
    .venv/bin/python bench/load.py --faults   # Redis frozen 30 s half-way, a worker killed
    .venv/bin/python bench/load.py --scale-out   # 2 web processes, 2 workers, one DB and Redis

A throw-away PostgreSQL database (a copy of `--template`, built once with migrate, seed_demo
and the bench's members, stock and pickup capacity) and a redis-server of its own on a free
port; the shop under bench/settings_load.py (production settings on plain-HTTP loopback).
Locust (bench/locustfile.py) runs headless for `--run-time` with `--users`; its CSVs and a
summary go to bench/results/. Then the invariants are checked in SQL (bench/load_checks.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    database_exists,
    free_port,
    log,
    percentile,
    postgres_server_default,
    scratch_postgres,
)
from bench.load_checks import before_run, invariants, load_data, outbox_drained  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "load-member-password"  # noqa: S105  (bench accounts on a throw-away database)
MEMBERS = 50
QUEUES = "celery,marketing,campaigns"
# Products with only this many units free at each store; half the checkouts go for one.
SCARCE_PRODUCTS, SCARCE_UNITS = 1, 1


def prepare() -> None:
    """In the template database (Django set up by the caller's environment): members with
    passwords (this settings module's hasher), stock for the run, pickup capacity."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db.models import F
    from django.db.models.functions import Coalesce
    from oscar.core.loading import get_model

    from loyalty.services.members import member_enrol
    from stores.models import PickupSlot, Store

    StockRecord = get_model("partner", "StockRecord")
    hashed = make_password(PASSWORD)
    for number in range(MEMBERS):
        address = f"load-member-{number}@example.com"
        user = User.objects.create(username=address, email=address, password=hashed)
        member_enrol(user=user)
    store_partners = Store.objects.values("partner_id")
    # Plenty of most products; a few in short supply everywhere, so that checkouts race
    # for the last units (no oversold stock, bench/load_checks.py).
    StockRecord.objects.filter(partner_id__in=store_partners).update(num_in_stock=500)
    stocked = StockRecord.objects.filter(partner_id__in=store_partners)
    scarce = sorted(set(stocked.values_list("product_id", flat=True)))[:SCARCE_PRODUCTS]
    # SCARCE_UNITS free: on top of what seed_demo's orders hold.
    stocked.filter(product_id__in=scarce).update(
        num_in_stock=Coalesce(F("num_allocated"), 0) + SCARCE_UNITS
    )
    Store.objects.update(slot_capacity=40)
    PickupSlot.objects.update(capacity=40)  # the slots seed_demo's orders booked


def template_build(server: str, name: str, env: dict[str, str]) -> None:
    log(f"building the template database {name} (migrate, seed_demo, bench members)")
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    seed_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": ""}
    for command in (["migrate", "-v", "0"], ["seed_demo", "-v", "0"]):
        subprocess.run([BIN / "python", "manage.py", *command], cwd=ROOT, env=seed_env, check=True)
    subprocess.run([BIN / "python", __file__, "--prepare"], cwd=ROOT, env=env, check=True)


def app_env(database_url: str, redis_port: int, work: Path, site: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_load",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": site,
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_URL": f"filemail:///{work / 'mail'}",
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(work / "sms.jsonl"),
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CONN_MAX_AGE": "60",
        "SERVE_MEDIA": "True",
        "MEDIA_ROOT": str(work / "media"),
    }


class Stack:
    """The processes of one run, each in a process group of its own (killed as a whole)."""

    def __init__(self, env: dict[str, str], work: Path):
        self.env, self.work = env, work
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]) -> None:
        out = open(self.work / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        self.procs[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
        )

    def web(self, name: str, port: int) -> None:
        self.start(
            name,
            [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        )

    def worker(self, name: str) -> None:
        self.start(
            name,
            [
                *(str(BIN / "celery"), "-A", "config", "worker", "-Q", QUEUES),
                *("-n", f"{name}@%h", "--concurrency=2", "--loglevel=WARNING"),
            ],
        )

    def beat(self) -> None:
        schedule = str(self.work / "beat-schedule")
        self.start("beat", [str(BIN / "celery"), "-A", "config", "beat", "-s", schedule])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        os.killpg(self.procs[name].pid, sig)
        self.procs[name].wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def healthy(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/health/", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


class Faults(threading.Thread):
    """Redis frozen (SIGSTOP) for `freeze` s half-way through, a Celery worker killed
    (SIGKILL) at a third and restarted 5 s later; records when each happened."""

    def __init__(self, stack: Stack, redis: subprocess.Popen, run_time: float, freeze: float):
        super().__init__(daemon=True)
        self.stack, self.redis, self.run_time, self.freeze = stack, redis, run_time, freeze
        self.events: dict[str, float] = {}

    def run(self) -> None:
        started = time.time()
        time.sleep(self.run_time / 3)
        self.events["worker_killed"] = time.time()
        self.stack.kill("worker1")
        time.sleep(5)
        self.stack.worker("worker1")
        self.events["worker_restarted"] = time.time()
        time.sleep(max(0.0, started + self.run_time / 2 - time.time()))
        self.redis.send_signal(signal.SIGSTOP)
        self.events["redis_frozen"] = time.time()
        time.sleep(self.freeze)
        self.redis.send_signal(signal.SIGCONT)
        self.events["redis_thawed"] = time.time()


def request_log_stats(path: Path, since: float, until: float) -> dict:
    """Requests that started within [since, until): count, errors, p50/p95/p99 in ms;
    and the outcomes (orders placed, sold out) logged by the scenario."""
    times, errors, outcomes = [], 0, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        started, name, ms, error = line.split("\t")
        if not since <= float(started) < until:
            continue
        if name.startswith("outcome "):
            outcomes[name[8:]] = outcomes.get(name[8:], 0) + 1
        else:
            times.append(float(ms))
            errors += bool(error)
    if not times:
        return {"requests": 0, "outcomes": outcomes}
    return {
        "requests": len(times),
        "errors": errors,
        **{f"p{q}_ms": round(percentile(times, q / 100), 1) for q in (50, 95, 99)},
        "max_ms": round(max(times), 1),
        "outcomes": outcomes,
    }


def locust_stats(prefix: Path) -> dict:
    """The Aggregated row of Locust's `<prefix>_stats.csv`."""
    import csv

    with open(f"{prefix}_stats.csv", encoding="utf-8") as file:
        total = next(row for row in csv.DictReader(file) if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    return {
        "requests": requests,
        "failures": failures,
        "error_rate_percent": round(100 * failures / max(requests, 1), 2),
        "throughput_rps": round(float(total["Requests/s"]), 1),
        **{f"p{q}_ms": float(total[f"{q}%"]) for q in (50, 95, 99)},
        "max_ms": round(float(total["Max Response Time"]), 1),
    }


def cross_process_checks(hosts: list[str]) -> dict:
    """State shared by the web processes, beyond the scenario's sessions: django-ratelimit's
    counters (in Redis) and the cache. Eleven wrong voucher codes (10/min per visitor, R37)
    sent alternately to each process: the eleventh is refused whichever process gets it."""
    import re

    import requests

    session = requests.Session()
    statuses = []
    for attempt in range(11):
        host = hosts[attempt % len(hosts)]
        page = session.get(host + "/basket/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        response = session.post(
            host + "/basket/vouchers/add/",
            {"csrfmiddlewaretoken": token.group(1) if token else "", "code": f"NOPE{attempt}"},
            timeout=30,
            allow_redirects=False,
        )
        statuses.append(response.status_code)
    return {"voucher_attempts_statuses": statuses, "eleventh_refused": statuses[-1] == 429}


def run(args: argparse.Namespace, database_url: str, work: Path) -> dict:
    redis_port, ports = free_port(), [free_port() for _ in range(2 if args.scale_out else 1)]
    hosts = [f"http://127.0.0.1:{port}" for port in ports]
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(redis_port)]
        + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    stack = Stack(app_env(database_url, redis_port, work, hosts[0]), work)
    try:
        for number, port in enumerate(ports, 1):
            stack.web(f"web{number}", port)
        for number in range(1, 3 if args.scale_out else 2):
            stack.worker(f"worker{number}")
        stack.beat()
        for host in hosts:
            healthy(host)
        before = before_run(database_url)
        load_data(database_url, PASSWORD, work / "data.json", SCARCE_UNITS)
        faults = Faults(stack, redis, args.run_time, args.freeze) if args.faults else None
        prefix = args.out / f"load-{args.label}"
        request_log = work / "requests.tsv"
        request_log.touch()
        loads = [os.getloadavg()[0]]
        started = time.time()
        if faults:
            faults.start()
        locust = subprocess.Popen(
            [
                *(str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"),
                *("-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.run_time}s"),
                *("--csv", str(prefix), "--only-summary", "--stop-timeout", "30"),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "LOAD_HOSTS": ",".join(hosts),
                "LOAD_DATA": str(work / "data.json"),
                "LOAD_REQUEST_LOG": str(request_log),
            },
            stdout=open(work / "locust.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        while locust.poll() is None:
            time.sleep(5)
            loads.append(os.getloadavg()[0])
        ended = time.time()
        log(f"locust done (exit {locust.returncode}); waiting for the outbox to drain")
        summary: dict = {
            "label": args.label,
            "mode": "faults" if args.faults else "scale-out" if args.scale_out else "plain",
            "web_processes": len(hosts),
            "celery_workers": 2 if args.scale_out else 1,
            "users": args.users,
            "run_time_s": args.run_time,
            "load_average_1min": {"min": min(loads), "max": max(loads), "start": loads[0]},
            "locust": locust_stats(prefix),
            "requests_log": request_log_stats(request_log, started, ended),
        }
        if faults:
            faults.join()
            summary["faults"] = {k: round(v - started, 1) for k, v in faults.events.items()}
            frozen, thawed = faults.events["redis_frozen"], faults.events["redis_thawed"]
            summary["windows"] = {
                "before_freeze": request_log_stats(request_log, started, frozen),
                "redis_frozen": request_log_stats(request_log, frozen, thawed),
                "after_freeze": request_log_stats(request_log, thawed, ended),
            }
        if args.scale_out:
            summary["cross_process"] = cross_process_checks(hosts)
        summary["outbox_drain_s"] = outbox_drained(database_url, before, args.drain)
        summary["invariants"] = invariants(database_url, before, work / "mail")
        return summary
    finally:
        stack.stop_all()
        redis.send_signal(signal.SIGCONT)
        redis.terminate()
        redis.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--faults", action="store_true", help="freeze Redis, kill a worker")
    mode.add_argument("--scale-out", action="store_true", help="2 web processes, 2 workers")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", type=int, default=90, help="seconds")
    parser.add_argument("--freeze", type=float, default=30, help="seconds Redis is frozen")
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for the outbox")
    parser.add_argument("--postgres", default=postgres_server_default(), metavar="URL")
    parser.add_argument("--template", default="solomo_load_template")
    parser.add_argument("--rebuild", action="store_true", help="build the template again")
    parser.add_argument("--label", default=time.strftime("%Y-%m-%d-%H%M", time.gmtime()))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare()
        return
    if args.run_time < 3 * args.freeze / 2 and args.faults:
        parser.error("--run-time must leave room for the freeze after half-way")
    media = Path(tempfile.gettempdir()) / f"{args.template}-media"
    with tempfile.TemporaryDirectory(prefix="solomo-load-") as tmp:
        work = Path(tmp)
        if args.rebuild or not database_exists(args.postgres, args.template):
            from urllib.parse import urlsplit, urlunsplit

            server = urlsplit(args.postgres)
            template_url = urlunsplit(server._replace(path=f"/{args.template}"))
            env = app_env(template_url, 0, work, "http://127.0.0.1")
            env["MEDIA_ROOT"] = str(media)
            template_build(args.postgres, args.template, env)
        shutil.copytree(media, work / "media")
        with scratch_postgres(args.postgres, f"solomo_load_{os.getpid()}", args.template) as url:
            summary = run(args, url, work)
        shutil.copy(work / "requests.tsv", args.out / f"load-{args.label}_requests.tsv")
    (args.out / f"load-{args.label}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
