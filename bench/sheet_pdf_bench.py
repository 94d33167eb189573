"""The 500-stop delivery sheet: its HTML page against its PDF rendered afresh, in-process, in the
same run (issue 20: the fresh PDF at most 10x the HTML).

`python bench/sheet_pdf_bench.py [--stops 500] [--rounds 5] [--profile FILE] [--save FILE]`
seeds a throwaway SQLite database (and instance dir) the way bench/run.py does (`flask demo
seed`, `demo bulk`, then `demo stops` on bench/run.py's Sunday), signs in as the demo admin with
Flask's test client, warms up, then alternates GET /delivery/sheets and GET /delivery/sheets.pdf
with the kept PDFs dropped before each PDF (crm.pdf.forget: every PDF is rendered afresh) for
`--rounds` rounds; prints the medians and their ratio. `measure(app)` does the timing part
against an app whose database already holds that sheet.
"""
import argparse
import cProfile
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHEET_DATE = "2026-12-06"  # bench/run.py's: a Sunday, when the demo farm has no stops of its own
HTML_PATH = f"/delivery/sheets?date={SHEET_DATE}"
PDF_PATH = f"/delivery/sheets.pdf?date={SHEET_DATE}"
PDF_TO_HTML_MAX = 10


def flask(env, *args):
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600)
    if done.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def signed_in_client(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/auth/sign-in").text)
    done = client.post("/auth/sign-in", data={"csrf_token": token[1],
                                              "email": "admin@example.com",
                                              "password": "microgreens"})
    if done.status_code != 302:
        sys.exit(f"sign-in failed: status {done.status_code}")
    client.get("/customers/")
    return client


def _get(client, path, pdf):
    from crm.pdf import forget

    if pdf:
        forget()
    started, cpu = time.perf_counter(), time.process_time()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu) * 1000
    if answer.status_code != 200:
        sys.exit(f"GET {path}: status {answer.status_code}")
    if pdf and not (answer.data.startswith(b"%PDF") and answer.headers["X-Cache"] == "MISS"):
        sys.exit(f"GET {path}: not a fresh PDF")
    return elapsed, cpu_ms, answer.data


def measure(app, rounds=5, stops=500, client=None) -> dict:
    client = client or signed_in_client(app)
    for _ in range(2):  # warm-up: templates, caches, WeasyPrint's import and fonts
        _get(client, HTML_PATH, False)
        _get(client, PDF_PATH, True)
    html_ms, pdf_ms, html_cpu, pdf_cpu, pdf_bytes = [], [], [], [], 0
    for _ in range(rounds):
        elapsed, cpu, body = _get(client, HTML_PATH, False)
        if body.count(b'class="stop"') != stops:
            sys.exit(f"GET {HTML_PATH}: not {stops} stops")
        html_ms.append(elapsed)
        html_cpu.append(cpu)
        elapsed, cpu, body = _get(client, PDF_PATH, True)
        pdf_ms.append(elapsed)
        pdf_cpu.append(cpu)
        pdf_bytes = len(body)
    html, pdf = statistics.median(html_ms), statistics.median(pdf_ms)
    ratio = pdf / html
    # CPU time of this process: on a shared machine less disturbed by other work than the clock.
    cpu_ratio = statistics.median(pdf_cpu) / statistics.median(html_cpu)
    return {
        "sheet_html": {"value": round(html, 1), "unit": "ms", "target": "< 1000 ms",
                       "met": html < 1000, "times": [round(t, 1) for t in html_ms]},
        "sheet_pdf_fresh": {"value": round(pdf, 1), "unit": "ms", "target": "< 5000 ms",
                            "met": pdf < 5000, "times": [round(t, 1) for t in pdf_ms],
                            "bytes": pdf_bytes},
        "sheet pdf rendered afresh / html": {"value": round(ratio, 1), "unit": "x",
                                             "target": f"<= {PDF_TO_HTML_MAX}",
                                             "met": ratio <= PDF_TO_HTML_MAX},
        "sheet pdf afresh / html (CPU time)": {
            "value": round(cpu_ratio, 1), "unit": "x", "target": f"<= {PDF_TO_HTML_MAX}",
            "met": cpu_ratio <= PDF_TO_HTML_MAX,
            "times": [f"{h:.0f} / {p:.0f} ms" for h, p in zip(html_cpu, pdf_cpu)]},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, default=500)
    parser.add_argument("--customers", type=int, default=1000, help="bulk customers")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", help="write a cProfile of one fresh PDF to this file")
    parser.add_argument("--save", help="write one fresh PDF of the sheet to this file")
    parser.add_argument("--db", help="reuse this SQLite file (seeded on first use)")
    parser.add_argument("--app-root", default=str(ROOT),
                        help="the checkout whose app is timed (e.g. a `git worktree add` of main)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-sheet-bench-") as tmp:
        db_file = Path(args.db) if args.db else Path(tmp) / "bench.sqlite3"
        env = {**os.environ, "FLASK_APP": "wsgi", "CRM_CONFIG": "development",
               "CRM_INSTANCE_DIR": str(db_file.parent if args.db else tmp),
               "DATABASE_URL": f"sqlite:///{db_file}", "PYTHONUNBUFFERED": "1"}
        env.pop("REDIS_URL", None)
        if not db_file.exists():
            flask(env, "db", "upgrade")
            seeded = int(re.search(r"Seeded (\d+)", flask(env, "demo", "seed", "--weeks", "2"))[1])
            flask(env, "demo", "bulk", "--customers", str(args.customers))
            print(flask(env, "demo", "stops", "--count", str(args.stops), "--date", SHEET_DATE,
                        "--from-customer", str(seeded + 1)).strip())
        os.environ.update({k: env[k] for k in ("CRM_CONFIG", "CRM_INSTANCE_DIR", "DATABASE_URL")})
        os.environ.pop("REDIS_URL", None)
        sys.path.insert(0, args.app_root)
        from crm import create_app

        app = create_app()
        client = signed_in_client(app)
        found = measure(app, args.rounds, args.stops, client)
        for name, figure in found.items():
            print(f"{name:<36} {figure['value']:>9} {figure['unit']:<3} target {figure['target']}"
                  f" {'met' if figure['met'] else 'MISSED'}  {figure.get('times', '')}")
        if args.save:
            Path(args.save).write_bytes(_get(client, PDF_PATH, True)[2])
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            _get(client, PDF_PATH, True)
            profile.disable()
            profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
