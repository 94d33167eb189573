"""`make bench`: seed 100k customers into a fresh database, serve the app under gunicorn and load
key pages with wrk from a second process; print and save req/s, p50, p95 and the ratio of each
page's req/s to the trivial /healthz endpoint measured in the same run. One customer (the one
the detail page shows) gets 10,000 interactions for the timeline pages, whose SQL statements are
also counted in-process against a customer with 10. Then 500 customers get delivery plans for one
Sunday: that day's delivery sheet (HTML page and PDF) is timed with single sequential requests;
and two of them get 1,000 and 10 preference changes, whose Preferences tabs must run as many SQL
statements.

SQLite (default): a throwaway database and instance dir (keys) in a temp dir; the developer's
instance/ and database are never touched (a SQLite DATABASE_URL is ignored). PostgreSQL:
DATABASE_URL=postgresql+psycopg://.../empty_db make bench; the database must be empty and is
emptied again afterwards (flask db downgrade base). All traffic goes to 127.0.0.1 only.
"""
import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.json"
LUA = ROOT / "bench" / "report.lua"
HOST = "127.0.0.1"
USER_AGENT = "crm-bench"  # the same for sign-in and load: "strong" session protection checks it
EMAIL, PASSWORD = "admin@example.com", "microgreens"
SEARCH = "blu her"  # word prefixes: finds "Blue Heron Bistro" and the like
TARGET_RATIO, TARGET_P95_MS = 0.10, 30.0
SMALL_TIMELINE = 10  # interactions of the customer whose query count the long timeline must match
HTMX = {"HX-Request": "true"}  # what htmx sends: the tab panel alone, not the page
HEADERS = {"timeline": HTMX}  # pages loaded with extra request headers
SETTLE_S = 1  # unmeasured load before each measured run
# The delivery sheets' day: a Sunday, when the demo farm has no stops of its own (its plans run
# Monday to Saturday), so the sheet lists exactly the stops the bench seeds.
SHEET_DATE = "2026-12-06"
SHEET_TARGETS_MS = {"sheet_html": 1000, "sheet_pdf": 5000}  # median of single requests
SMALL_HISTORY = 10  # preference changes of the customer whose query count the long one must match
# Contacts jobs, run after the load through their CLI commands (the same code as the jobs):
# the duplicate scan over every contact, then the import of a generated file.
CONTACT_TARGETS_S = {"duplicate_scan": 60, "import": 20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=10_000,
                        help="interactions of the customer whose timeline is loaded")
    parser.add_argument("--duration", type=int, default=5, help="seconds per page and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over all pages; each page reports its median round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--stops", type=int, default=500,
                        help=f"stops on the delivery sheet of {SHEET_DATE}")
    parser.add_argument("--history", type=int, default=1000,
                        help="preference changes of the customer whose Preferences tab is counted")
    parser.add_argument("--sheet-requests", type=int, default=5,
                        help="timed sequential requests per sheet (after one warm-up per worker)")
    parser.add_argument("--import-rows", type=int, default=10_000,
                        help="rows of the generated CSV file timed through the import")
    parser.add_argument("--count-queries", help=argparse.SUPPRESS)  # internal: see query_counts
    args = parser.parse_args()
    if args.count_queries:
        return count_queries(json.loads(args.count_queries))
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        env = {**os.environ, "FLASK_APP": "wsgi", "CRM_CONFIG": "development",
               "CRM_INSTANCE_DIR": tmp, "PYTHONUNBUFFERED": "1"}
        if env.get("DATABASE_URL", "sqlite").startswith("sqlite"):
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        env.pop("REDIS_URL", None)  # inline jobs, in-memory rate limits: nothing else to run
        db_name = env["DATABASE_URL"].split(":", 1)[0].split("+", 1)[0]
        require_empty(env["DATABASE_URL"])
        try:
            flask(env, "db", "upgrade")
            seeded = re.search(r"Seeded (\d+)", flask(env, "demo", "seed"))
            seeded = int(seeded[1]) if seeded else 0
            started = time.monotonic()
            flask(env, "demo", "bulk", "--customers", str(args.customers))
            bulk_s = time.monotonic() - started
            print(f"bulk seed: {args.customers} customers in {bulk_s:.1f} s")
            customer = seeded + args.customers // 2  # a bulk one, in the middle of the table
            started = time.monotonic()
            flask(env, "demo", "interactions", "--customer", str(customer),
                  "--count", str(args.interactions))
            interactions_s = time.monotonic() - started
            flask(env, "demo", "interactions", "--customer", str(customer + 1),
                  "--count", str(SMALL_TIMELINE))
            started = time.monotonic()
            made = flask(env, "demo", "stops", "--count", str(args.stops), "--date", SHEET_DATE,
                         "--from-customer", str(seeded + 1))  # active bulk customers, in id order
            stops_s = time.monotonic() - started
            # Two customers with plans, standing items and dislikes: the first and the last stop.
            long_prefs, short_prefs = map(int, re.search(r"ids (\d+) to (\d+)", made).groups())
            started = time.monotonic()
            flask(env, "demo", "history", "--customer", str(long_prefs),
                  "--count", str(args.history))
            history_s = time.monotonic() - started
            flask(env, "demo", "history", "--customer", str(short_prefs),
                  "--count", str(SMALL_HISTORY))
            sheets = {"sheet_html": f"/delivery/sheets?date={SHEET_DATE}",
                      "sheet_pdf": f"/delivery/sheets.pdf?date={SHEET_DATE}"}
            timeline = f"/timeline?customer={customer}"
            tab = f"/customers/{customer}/communications"
            pages = {
                "healthz": "/healthz",
                "customer_list": "/customers/",
                "name_search": None,  # the search's own URL, asked of the app once signed in
                "customer_detail": f"/customers/{customer}",
                # The first timeline page: the newest 20 entries, as htmx loads them (HEADERS).
                "timeline": timeline,
                # The whole Communications tab page: layout, quick log form and the timeline.
                "comms_tab": tab,
            }
            small_timeline = f"/timeline?customer={customer + 1}"
            small_tab = f"/customers/{customer + 1}/communications"
            prefs, small_prefs = (f"/customers/{c}/preferences" for c in (long_prefs, short_prefs))
            counted = query_counts(env, [(timeline, HTMX), (small_timeline, HTMX),
                                         (tab, {}), (small_tab, {}),
                                         (prefs, {}), (small_prefs, {}),
                                         (prefs, HTMX), (small_prefs, HTMX)])
            queries = {"timeline": {args.interactions: counted[0], SMALL_TIMELINE: counted[1]},
                       "comms_tab": {args.interactions: counted[2], SMALL_TIMELINE: counted[3]}}
            prefs_queries = {"prefs_tab": {args.history: counted[4], SMALL_HISTORY: counted[5]},
                             "prefs_htmx": {args.history: counted[6], SMALL_HISTORY: counted[7]}}
            busy = cpu_busy()  # other work on the machine skews the figures: note how much
            runs, sheet_times = serve_and_load(env, Path(tmp), pages, args, sheets)
            busy = max(busy, cpu_busy())
            contact_jobs = time_contact_jobs(env, Path(tmp), args)
        finally:
            if db_name != "sqlite":  # leave the server's database empty, as it was
                flask(env, "db", "downgrade", "base", check=False)

    results = {}
    for name, page_runs in runs.items():
        median = sorted(page_runs, key=lambda r: r["rps"])[len(page_runs) // 2]
        results[name] = {**median, "rps_rounds": [r["rps"] for r in page_runs]}
    base = results["healthz"]["rps"]
    for page in results.values():
        page["ratio"] = round(page["rps"] / base, 3)
    met = all(p["ratio"] >= TARGET_RATIO and p["p95_ms"] < TARGET_P95_MS
              for name, p in results.items() if name != "healthz")
    met = met and all(len(set(counts.values())) == 1 for counts in queries.values())
    met = met and all(len(set(counts.values())) == 1 for counts in prefs_queries.values())
    for name, timed in sheet_times.items():
        timed["target_ms"] = SHEET_TARGETS_MS[name]
        met = met and timed["median_ms"] < timed["target_ms"]
    met = met and all(job["seconds"] < job["target_s"] for job in contact_jobs.values())
    report = {
        "db": db_name, "customers": seeded + args.customers, "pages": results,
        "date": datetime.date.today().isoformat(), "bulk_seed_s": round(bulk_s, 1),
        "timeline_interactions": args.interactions,
        "interactions_seed_s": round(interactions_s, 1),
        "timeline_queries": queries,
        "sheet_date": SHEET_DATE, "sheet_stops": args.stops, "stops_seed_s": round(stops_s, 1),
        "sheets": sheet_times,
        "preference_changes": args.history, "history_seed_s": round(history_s, 1),
        "preferences_queries": prefs_queries,
        "contact_jobs": contact_jobs,
        "connections": args.connections, "gunicorn_workers": args.workers,
        "seconds_per_round": args.duration, "rounds": args.rounds, "cpus": os.cpu_count(),
        "targets_met": met, "cpu_busy_outside_run": busy,
        "paths": {**pages, **sheets, "prefs_tab": prefs, "prefs_tab_small": small_prefs},
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def time_contact_jobs(env, tmp, args):
    """Time the duplicate scan over every contact, then the import of a generated file of
    `--import-rows` rows, 10 % of them duplicates (half of people on record, half repeats
    within the file), skipping duplicates. Each through its CLI command, one run each:
    {"duplicate_scan" | "import": {"seconds", "target_s", "output"}}."""
    timed = {}
    started = time.monotonic()
    out = flask(env, "contacts", "scan-duplicates")
    timed["duplicate_scan"] = {"seconds": round(time.monotonic() - started, 1),
                               "output": out.strip().splitlines()[-1]}
    csv_file = tmp / "import.csv"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "import_file.py"), str(csv_file),
                           "--rows", str(args.import_rows), "--duplicates", "0.1"],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    if made.returncode:
        sys.exit(f"bench/import_file.py failed:\n{made.stdout}{made.stderr}")
    started = time.monotonic()
    out = flask(env, "contacts", "import", str(csv_file), "--on-duplicate", "skip")
    timed["import"] = {"seconds": round(time.monotonic() - started, 1),
                       "output": out.strip().splitlines()[-1]}
    for name, job in timed.items():
        job["target_s"] = CONTACT_TARGETS_S[name]
    return timed


def serve_and_load(env, tmp, pages, args, sheets):
    """Start gunicorn, sign in, check every page, then load them; then time the delivery sheets
    with single requests: ({page: [wrk result per round]}, {sheet: timings})."""
    log = tmp / "gunicorn.log"
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "wsgi:app", "--bind", f"{HOST}:{port}",
         "--workers", str(args.workers), "--worker-class", "sync",
         "--timeout", "120",  # a worker rendering a long PDF is busy, not stuck
         "--error-logfile", str(log), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_until_up(port, server)
        cookie = sign_in(port)
        pages["name_search"] = search_path(port, cookie, SEARCH)
        for name, path in pages.items():
            check_page(port, path, cookie, search=SEARCH if name == "name_search" else None,
                       headers=HEADERS.get(name), entries=name in ("timeline", "comms_tab"))
        for name, path in pages.items():
            wrk(port, path, cookie, args.connections, args.warmup, HEADERS.get(name))
        runs = {name: [] for name in pages}
        for round_ in range(1, args.rounds + 1):
            for name, path in pages.items():  # interleaved, so drift hits every page alike
                # Unmeasured first: the workers still owe answers to requests queued by the
                # previous page's run (wrk stops with up to `connections` of them waiting).
                headers = HEADERS.get(name)
                wrk(port, path, cookie, args.connections, SETTLE_S, headers)
                runs[name].append(wrk(port, path, cookie, args.connections, args.duration,
                                      headers))
            print(f"round {round_}/{args.rounds}: " + ", ".join(
                f"{name} {r[-1]['rps']:.0f}/s" for name, r in runs.items()))
        timed = {name: time_sheet(port, path, cookie, args, pdf=name == "sheet_pdf")
                 for name, path in sheets.items()}
        for name, t in timed.items():
            print(f"{name}: " + ", ".join(f"{ms:.0f}" for ms in t["times_ms"]) + " ms")
        return runs, timed
    except BaseException:
        if log.exists():
            print("--- gunicorn log ---\n" + log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(server)


def flask(env, *args, check=True):
    """Run a flask CLI command in the bench environment; its output (also echoed briefly)."""
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300)
    if done.returncode:
        message = f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        if check:
            sys.exit(message)
        print(message, file=sys.stderr)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    print(f"flask {' '.join(args)}: {last}")
    return done.stdout


def require_empty(url):
    """Refuse a database that already holds tables: the bench needs a fresh one."""
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    if tables:
        sys.exit(f"DATABASE_URL must name an empty database; it has {len(tables)} tables")


def query_counts(env, requests):
    """SQL statements each (path, headers) GET runs, counted in-process in the bench environment
    (a subprocess, so the app reads that environment): a list in the same order."""
    done = subprocess.run([sys.executable, __file__, "--count-queries", json.dumps(requests)],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    if done.returncode:
        sys.exit(f"counting queries failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def count_queries(requests):
    """The subprocess of query_counts: sign in with Flask's test client, GET each path once to
    warm up and once counting statements; print the counts as one JSON line."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from crm import create_app
    from crm.extensions import db

    app = create_app()
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/auth/sign-in").text)
    signed_in = client.post("/auth/sign-in", data={
        "csrf_token": token[1], "email": EMAIL, "password": PASSWORD})
    if signed_in.status_code != 302:
        sys.exit(f"sign-in failed: status {signed_in.status_code}")
    client.get("/customers/")  # as in sign_in: the session gets its CSRF token here
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    counts = []
    for path, headers in requests:
        client.get(path, headers=headers)
        statements.clear()
        if client.get(path, headers=headers).status_code != 200:
            sys.exit(f"GET {path}: not 200")
        counts.append(len(statements))
    print(json.dumps(counts))


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (from /proc/stat), while the bench itself idles."""
    def sample():
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return 0.0
    return round(1 - (idle1 - idle0) / max(total1 - total0, 1), 2)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(port, server, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def request(port, method, path, body=None, headers=None, timeout=10, raw=False):
    """One request; (status, headers, body text, or bytes if raw)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        content = response.read()
        return response.status, response.headers, content if raw else content.decode()
    finally:
        conn.close()


def session_cookie(headers):
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("crm_session="):
            return value.split(";", 1)[0]
    return None


def sign_in(port):
    """Sign in once (sign-in is rate limited) and return the `crm_session=...` cookie."""
    status, headers, page = request(port, "GET", "/auth/sign-in")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or not token:
        raise RuntimeError(f"sign-in page: status {status}, csrf token found: {bool(token)}")
    form = urllib.parse.urlencode({"csrf_token": token[1], "email": EMAIL, "password": PASSWORD})
    status, headers, _ = request(port, "POST", "/auth/sign-in", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": session_cookie(headers)})
    cookie = session_cookie(headers)
    if status != 302 or not cookie:
        raise RuntimeError(f"sign-in failed: status {status}")
    # Follow the redirect like a browser and keep the cookie it updates (the session gets its
    # CSRF token there; without it every page would mint one and set the cookie again).
    _, headers, _ = request(port, "GET", "/customers/", headers={"Cookie": cookie})
    return session_cookie(headers) or cookie


def search_path(port, cookie, text):
    """The URL the app gives a name search: the search form posts the text and is redirected to
    the list URL with the text sealed (encrypted) in it, so that GET is the search page."""
    _, _, page = request(port, "GET", "/customers/", headers={"Cookie": cookie})
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = urllib.parse.urlencode({"q": text, "csrf_token": token[1] if token else ""})
    status, headers, _ = request(port, "POST", "/customers/search", body=form, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    if status in (302, 303) and headers.get("Location"):
        location = urllib.parse.urlsplit(headers["Location"])
        return f"{location.path}?{location.query}"
    return "/customers/?" + urllib.parse.urlencode({"q": text})  # an app without sealed search


def check_page(port, path, cookie, search=None, headers=None, entries=False):
    """200 while signed in; for a search, customers listed and each name matching every word;
    for a timeline, a full first page of entries; for htmx, a fragment, not a page."""
    status, _, body = request(port, "GET", path, headers={"Cookie": cookie, **(headers or {})})
    if status != 200:
        raise RuntimeError(f"GET {path}: status {status}")
    if entries and (headers == HTMX) == ("<html" in body):
        raise RuntimeError(f"GET {path} with {headers}: {'a page' if headers else 'a fragment'}")
    if entries and (body.count('class="entry ') != 20 or "Show older entries" not in body):
        raise RuntimeError(f"GET {path}: not a first page of 20 timeline entries")
    if search:
        names = re.findall(r'<a href="/customers/\d+">([^<]+)</a>', body)
        if not names or not all(
            all(any(w.startswith(typed) for w in name.lower().split()) for typed in search.split())
            for name in names
        ):
            raise RuntimeError(f"GET {path} does not look like a search for {search!r}: {names[:5]}")


def time_sheet(port, path, cookie, args, pdf=False):
    """Time single sequential requests for one delivery sheet: first one unmeasured request per
    gunicorn worker (each imports WeasyPrint and fills its caches on its first sheet), then
    `--sheet-requests` measured ones. Each answer is checked: the HTML page lists `--stops`
    stops, the PDF is a PDF. {"median_ms", "max_ms", "times_ms", "bytes"}."""
    times, size = [], 0
    for n in range(args.workers + args.sheet_requests):
        started = time.perf_counter()
        status, headers, body = request(port, "GET", path, headers={"Cookie": cookie},
                                        timeout=120, raw=True)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path}: status {status}")
        if pdf and not (body.startswith(b"%PDF")
                        and headers.get("Content-Type") == "application/pdf"):
            raise RuntimeError(f"GET {path}: not a PDF ({headers.get('Content-Type')})")
        stops = body.count(b'class="stop"')
        if not pdf and (stops != args.stops or b"<html" not in body):
            raise RuntimeError(f"GET {path}: a page with {stops} stops, not {args.stops}")
        if n >= args.workers:
            times.append(elapsed_ms)
        size = len(body)
    ordered = sorted(times)
    return {"median_ms": round(ordered[len(ordered) // 2], 1), "max_ms": round(ordered[-1], 1),
            "times_ms": [round(t, 1) for t in times], "bytes": size}


def wrk(port, path, cookie, connections, seconds, headers=None):
    """Load one page with wrk (one thread, `connections` connections) for a fixed time."""
    extra = [arg for name, value in (headers or {}).items()
             for arg in ("--header", f"{name}: {value}")]
    command = ["wrk", "--threads", "1", "--connections", str(connections),
               "--duration", f"{seconds}s", "--timeout", "5s", "--script", str(LUA),
               "--header", f"Cookie: {cookie}", "--header", f"User-Agent: {USER_AGENT}",
               *extra, f"http://{HOST}:{port}{path}"]
    out = subprocess.run(command, text=True, capture_output=True, timeout=seconds + 30).stdout
    line = next((l for l in out.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result for {path}:\n{out}")
    r = json.loads(line[len("BENCH "):])
    if r["not_200"] or r["socket_errors"] or not r["requests"]:
        raise RuntimeError(f"GET {path}: {r['not_200']} responses not 200, "
                           f"{r['socket_errors']} socket errors of {r['requests']} requests")
    return {"rps": round(r["requests"] / (r["duration_us"] / 1e6), 1),
            "p50_ms": round(r["p50_us"] / 1000, 2), "p95_ms": round(r["p95_us"] / 1000, 2),
            "requests": r["requests"]}


def stop(server):
    """Stop gunicorn and its workers (its own process group), whatever happened."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def print_table(report):
    print(f"\n{report['db']}, {report['customers']} customers, {report['connections']} connections, "
          f"{report['gunicorn_workers']} gunicorn sync workers, median of {report['rounds']} rounds "
          f"of {report['seconds_per_round']} s per page")
    print(f"{'page':<16} {'path':<24} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6}  target")
    for name, page in report["pages"].items():
        ok = "" if name == "healthz" else (
            "ok" if page["ratio"] >= TARGET_RATIO and page["p95_ms"] < TARGET_P95_MS else "MISSED")
        path = report["paths"][name]
        path = path if len(path) <= 24 else path[:23] + "…"
        print(f"{name:<16} {path:<24} {page['rps']:>8.1f} {page['p50_ms']:>7.2f} "
              f"{page['p95_ms']:>7.2f} {page['ratio']:>6.3f}  {ok}")
    print(f"bulk seed (flask demo bulk): {report['bulk_seed_s']} s; "
          f"{report['timeline_interactions']} interactions for the timeline "
          f"(flask demo interactions): {report['interactions_seed_s']} s")
    for name, counts in report["timeline_queries"].items():
        same = "same" if len(set(counts.values())) == 1 else "DIFFERENT"
        print(f"timeline SQL statements ({name}): " + ", ".join(
            f"{n} with {interactions} interactions" for interactions, n in counts.items())
            + f": {same}")
    print(f"\ndelivery sheets for {report['sheet_date']}, {report['sheet_stops']} stops "
          f"(flask demo stops: {report['stops_seed_s']} s), single sequential requests:")
    print(f"{'sheet':<16} {'path':<38} {'median ms':>9} {'max ms':>8} {'target':>8}")
    for name, timed in report["sheets"].items():
        ok = "ok" if timed["median_ms"] < timed["target_ms"] else "MISSED"
        print(f"{name:<16} {report['paths'][name]:<38} {timed['median_ms']:>9.0f} "
              f"{timed['max_ms']:>8.0f} {'< ' + str(timed['target_ms']):>8}  {ok}")
    for name, counts in report["preferences_queries"].items():
        same = "same" if len(set(counts.values())) == 1 else "DIFFERENT"
        print(f"preferences SQL statements ({name}): " + ", ".join(
            f"{n} with {changes} changes" for changes, n in counts.items()) + f": {same}")
    print(f"\ncontacts jobs at {report['customers']} customers (one run each, through the CLI):")
    for name, job in report["contact_jobs"].items():
        ok = "ok" if job["seconds"] < job["target_s"] else "MISSED"
        print(f"{name:<16} {job['seconds']:>7.1f} s  < {job['target_s']} s  {ok}   {job['output']}")
    print(f"targets (each page >= {TARGET_RATIO} of healthz req/s, p95 < {TARGET_P95_MS:.0f} ms; "
          "query counts the same; sheets' medians and contacts jobs under their targets): "
          + ("met" if report["targets_met"] else "MISSED"))
    if report["cpu_busy_outside_run"] > 0.2:
        print(f"warning: the CPUs were {report['cpu_busy_outside_run']:.0%} busy with other work "
              "just before or after the load; these figures are skewed, run again on a quiet machine")


if __name__ == "__main__":
    main()
