"""How long importing a 20,000-row LinkedIn Connections.csv takes, on SQLite and PostgreSQL.

    uv run python bench/import_bench.py [--rows 20000] [--db sqlite|postgresql|both]

Builds a synthetic ``Connections.csv`` (LinkedIn's preamble, empty e-mails on most rows, some
rows twice, some without a name, ~1.6 MB at 20,000 rows), then for each database, on a fresh
migrated one, times :meth:`Reconnect.import_file` end to end — parse (in a thread), read the
user's contacts, deduplicate, bulk insert, commit — three ways:

* **first**: into an empty account (every row a new pool contact);
* **again**: the same file once more (every row merges; nothing new is written);
* **with circle**: a fresh account that already has 500 contacts, 200 of whom are in the file.

Figures go to docs/benchmarks.md. The goal: ≤ 5 s for 20,000 rows on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import database, machine, revision  # noqa: E402

TITLES = ["VP Engineering", "Director of Finance", "Software Engineer", "Head of Sales",
          "Chief Operating Officer", "Account Manager", "Analyst", "Product Manager",
          "Recruiter", "Consultant"]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def connections_csv(rows: int, seed: int = 7) -> bytes:
    """A LinkedIn export with ``rows`` data rows (about 1 in 50 repeated, 1 in 500 nameless)."""
    rng = random.Random(seed)
    lines = [
        "Notes:",
        '"When exporting your connection data, you may notice that some of the email '
        'addresses are missing."',
        "",
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
    ]
    for i in range(rows):
        n = i if rng.random() > 0.02 else rng.randrange(max(1, i))  # a repeated person
        first, last = f"First{n}", f"Last{n}"
        if i % 500 == 499:
            first = last = ""  # a deleted member
        email = f"person{n}@example.com" if n % 7 == 0 else ""
        company = f'"Company {n % 900}, Inc."'
        connected = f"{rng.randint(1, 28):02d} {rng.choice(MONTHS)} {rng.randint(2005, 2025)}"
        lines.append(
            f"{first},{last},https://www.linkedin.com/in/person-{n},{email},{company},"
            f"{TITLES[n % len(TITLES)]},{connected}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


async def run(kind: str, data: bytes) -> dict[str, Any]:
    from bot.core.model import ContactDraft, UserRef
    from bot.core.service import Caller, Reconnect
    from storage import db
    from storage.repository import SqlStore

    figures: dict[str, Any] = {}
    with database(kind) as url:
        engine = db.create_engine(url)
        try:
            service = Reconnect(SqlStore(engine))
            ada = Caller(UserRef("slack", "T1", "UADA"))
            for label in ("first", "again"):
                started = time.perf_counter()
                reply = await service.import_file(ada, data)
                figures[label] = time.perf_counter() - started
                figures[f"{label}_summary"] = reply.summary
            bob = Caller(UserRef("slack", "T1", "UBOB"))
            store = SqlStore(engine)
            async with store.book(bob.user) as book:
                today = __import__("datetime").date(2026, 11, 25)
                for i in range(500):
                    name = f"First{i * 40} Last{i * 40}" if i < 200 else f"Circle {i}"
                    await book.add(ContactDraft(name=name), due_on=today, today=today)
            started = time.perf_counter()
            reply = await service.import_file(bob, data)
            figures["with circle"] = time.perf_counter() - started
            figures["with circle_summary"] = reply.summary
        finally:
            await engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--rows", type=int, default=20_000)
    args.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    options = args.parse_args(argv)
    data = connections_csv(options.rows)
    print(f"# {options.rows:,} rows, {len(data) / 1_048_576:.2f} MB; {machine()}; {revision()}")
    kinds = ("sqlite", "postgresql") if options.db == "both" else (options.db,)
    print("| Database | first import s | same file again s | into 500 contacts s |")
    print("|---|---:|---:|---:|")
    for kind in kinds:
        f = asyncio.run(run(kind, data))
        print(f"| {kind} | {f['first']:.2f} | {f['again']:.2f} | {f['with circle']:.2f} |")
        for label in ("first", "again", "with circle"):
            print(f"#   {kind} {label}: {f[f'{label}_summary']}", file=sys.stderr)


if __name__ == "__main__":
    main()
