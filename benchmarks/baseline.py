"""The honest per-row baseline: what the old single-machine generator did, on retail-2.

One Faker call per cell, a dict per row, a Python set for uniqueness (retrying
on collision), ``random.choice`` over the collected parent keys for the foreign
key, and a pyarrow Parquet write of the row dicts. It deliberately uses a
seeded ``random``/Faker state: it is the yardstick, not a model.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

COUNTRIES = ["US", "GB", "DE", "FR", "IN"]
COUNTRY_WEIGHTS = [0.5, 0.2, 0.1, 0.1, 0.1]
STATUSES = ["pending", "shipped", "delivered", "cancelled"]
STATUS_WEIGHTS = [0.1, 0.3, 0.5, 0.1]
BIRTH_START, BIRTH_END = dt.date(1950, 1, 1), dt.date(2005, 12, 31)
TS_START, TS_END = dt.datetime(2020, 1, 1), dt.datetime(2026, 1, 1)


def _unique(make, seen: set) -> object:
    for _ in range(100):
        value = make()
        if value not in seen:
            seen.add(value)
            return value
    value = f"{make()}_{len(seen)}"
    seen.add(value)
    return value


def customers(fake: Faker, rows: int) -> list[dict]:
    emails: set = set()
    table = []
    for row in range(rows):
        table.append({
            "customer_id": row + 1,
            "first_name": fake.first_name(),
            "last_name": fake.last_name(),
            "email": _unique(fake.email, emails),
            "phone": fake.phone_number(),
            "birth_date": fake.date_between(BIRTH_START, BIRTH_END),
            "signup_ts": fake.date_time_between(TS_START, TS_END),
            "country": random.choices(COUNTRIES, COUNTRY_WEIGHTS)[0],
            "balance": round(random.uniform(0, 10000), 2),
            "is_active": random.choice([True, False]),
            "account_code": fake.bothify("???-######", letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "uid": fake.uuid4(),
        })
    return table


def orders(fake: Faker, rows: int, customer_ids: list[int]) -> list[dict]:
    table = []
    for row in range(rows):
        table.append({
            "order_id": row + 1,
            "customer_id": random.choice(customer_ids),
            "order_ts": fake.date_time_between(TS_START, TS_END),
            "status": random.choices(STATUSES, STATUS_WEIGHTS)[0],
            "amount": round(random.uniform(1, 2000), 2),
            "note": None if random.random() < 0.7 else fake.sentence(),
        })
    return table


def run(customer_rows: int, out: Path, seed: int = 2026) -> dict:
    """Generate retail-2 (customers N, orders 4N) row by row into ``out``; returns rows and seconds."""
    random.seed(seed)
    Faker.seed(seed)
    fake = Faker("en_US")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    customer_rows_list = customers(fake, customer_rows)
    pq.write_table(pa.Table.from_pylist(customer_rows_list), out / "customers.parquet")
    ids = [row["customer_id"] for row in customer_rows_list]
    order_rows = orders(fake, 4 * customer_rows, ids)
    pq.write_table(pa.Table.from_pylist(order_rows), out / "orders.parquet")
    return {"rows": customer_rows * 5, "seconds": time.perf_counter() - started}
