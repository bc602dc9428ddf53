"""Hospital ingest speed (issue 4): a generated 37,400-exam wide CSV (~30 items per exam) for the
bench database's officers, loaded as one batch, beside a raw bulk insert of the same observation
rows (COPY on PostgreSQL, executemany on SQLite) measured in the same run: into a bare table (the
issue's yardstick) and into ``observation`` itself, whose indexes and foreign-key checks are the
floor any load of these rows pays.

The load is the real path (parse, harmonise, match, upsert, quarantine, recompute, commit); a
second load of the same file shows the idempotent path (everything unchanged). Afterwards the
bench rows are removed and the touched officers recomputed, so the bench database stays as built.
"""
from __future__ import annotations

import datetime as dt
import io
import random
import time

from sqlalchemy import delete, func, select, text

from ingest.hospital_load import OBS_COLS, load_hospital_bytes
from models.db import vacuum
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer, QuarantineRow, WarningHistory
from portal.bench import BenchContext, Result

EXAMS = 37_400
FLOOR_RATIO_GOAL = 1.5  # issue 22: the whole load within 1.5x a COPY of its rows into observation
HOSPITAL = "BENCH-H"
# (header, low, high, decimals): 21 loaded measures
MEASURES = (
    ("身高(cm)", 155, 190, 1), ("体重(kg)", 50, 105, 1), ("BMI", 18, 33, 1), ("腰围(cm)", 65, 110, 0),
    ("体脂率(%)", 12, 35, 1), ("内脏脂肪等级", 2, 18, 0), ("收缩压(mmHg)", 100, 170, 0), ("舒张压(mmHg)", 60, 105, 0),
    ("脉搏(次/分)", 55, 100, 0), ("血氧(%)", 94, 100, 0), ("空腹血糖(mmol/L)", 4.2, 8.5, 2),
    ("餐后2小时血糖(mmol/L)", 5.0, 12.0, 2), ("糖化血红蛋白(%)", 4.5, 8.0, 1), ("总胆固醇(mg/dL)", 140, 260, 0),
    ("甘油三酯(mmol/L)", 0.6, 4.0, 2), ("高密度脂蛋白(mmol/L)", 0.8, 2.0, 2), ("低密度脂蛋白(mmol/L)", 1.8, 4.8, 2),
    ("尿酸(μmol/L)", 220, 520, 0), ("肌酐(μmol/L)", 55, 115, 0), ("谷丙转氨酶(U/L)", 10, 80, 0),
    ("谷草转氨酶(U/L)", 12, 60, 0),
)
IGNORED = ("白细胞", "红细胞", "血红蛋白", "血小板", "尿蛋白", "尿糖")  # lab items the portal does not keep
ECG = ("窦性心律", "窦性心律，ST-T改变", "窦性心动过缓", "窦性心律，一度房室传导阻滞", "窦性心律，左心室高电压", "心房颤动")
US = ("肝胆胰脾未见异常", "轻度脂肪肝", "中度脂肪肝", "胆囊息肉", "肾结石", "甲状腺结节")


def generate(officers: list[tuple[str, str]], exams: int = EXAMS, seed: int = 4) -> bytes:
    """A wide CSV of ``exams`` rows over the officers (badge, name), distinct dates per officer."""
    rng = random.Random(seed)
    header = ["体检编号", "警号", "姓名", "体检日期"] + [m[0] for m in MEASURES] + list(IGNORED) + ["心电图", "B超", "总检结论"]
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    n = len(officers)
    end = dt.date.today() - dt.timedelta(days=30)
    per_officer = -(-exams // n)
    step = max(1, min(365, (end - dt.date(2001, 1, 1)).days // per_officer))
    for i in range(exams):
        badge, name = officers[i % n]
        day = end - dt.timedelta(days=(i // n) * step + (i * 7919) % step)
        vals = [f"{rng.uniform(lo, hi):.{d}f}" for _, lo, hi, d in MEASURES]
        if rng.random() < 0.03:
            vals[rng.randrange(len(vals))] = "未查"
        labs = [f"{rng.uniform(4, 10):.1f}", f"{rng.uniform(4, 5.5):.2f}", f"{rng.uniform(120, 170):.0f}",
                f"{rng.uniform(150, 350):.0f}", "-", "-"]
        out.write(",".join([f"BX{i:06d}", badge, name, day.isoformat(), *vals, *labs, rng.choice(ECG), rng.choice(US),
                            "建议定期复查"]) + "\n")
    return out.getvalue().encode("utf-8")


def _cleanup(ctx: BenchContext) -> list[int]:
    """Remove the bench hospital's data; returns the officers whose status must be recomputed."""
    with ctx.session() as s:
        hid = s.scalar(select(Hospital.id).where(Hospital.code == HOSPITAL))
        if hid is None:
            return []
        officers = list(s.scalars(select(Exam.officer_id).where(Exam.hospital_id == hid).distinct()))
        batches = list(s.scalars(select(ImportBatch.id).where(ImportBatch.source == HOSPITAL)))
        s.execute(delete(Observation).where(Observation.source_kind == "exam", Observation.source_id == HOSPITAL))
        s.execute(delete(Exam).where(Exam.hospital_id == hid))
        if batches:
            s.execute(delete(QuarantineRow).where(QuarantineRow.batch_id.in_(batches)))
            s.execute(delete(QuarantineRow).where(QuarantineRow.resolved_batch_id.in_(batches)))
            s.execute(delete(ImportBatch).where(ImportBatch.id.in_(batches)))
        s.execute(delete(Hospital).where(Hospital.id == hid))
    return officers


def _history_end(ctx: BenchContext) -> int:
    with ctx.session() as s:
        return s.scalar(select(func.max(WarningHistory.id))) or 0


def _restore(ctx: BenchContext, history_end: int | None = None) -> None:
    """Remove the bench rows and recompute their officers; with ``history_end``, also the colour
    changes written since (by the load and by this recompute), which would otherwise pile up run
    after run as recent movement on the dashboards of the bench database."""
    from models.snapshot import recompute_officers

    officers = _cleanup(ctx)
    if officers:
        with ctx.session() as s:
            recompute_officers(s, officers)
            if history_end is not None:
                s.execute(delete(WarningHistory).where(WarningHistory.id > history_end))
        # compact what the cleanup deleted, so each run starts from the database as built: dead rows
        # or, after a plain VACUUM, scattered free space would slow the next run's inserts
        vacuum(ctx.url, ("observation", "exam", "officer_status", "warning_history"), full=True)


def _raw_insert(ctx: BenchContext, batch_id: int) -> tuple[float, float, int]:
    """Seconds to bulk-insert the observation rows the batch wrote (COPY / executemany), into a bare
    scratch table and into ``observation`` itself (its indexes and foreign keys; rolled back)."""
    cols = ", ".join(OBS_COLS)
    with ctx.session() as s:
        table = Observation.__table__
        rows = [tuple(r) for r in s.execute(select(*(table.c[c] for c in OBS_COLS)).where(table.c.batch_id == batch_id))]
        s.execute(text("DROP TABLE IF EXISTS bench_ingest_observation"))
        s.execute(text(f"CREATE TABLE bench_ingest_observation AS SELECT {cols} FROM observation WHERE 1 = 0"))
    from models.db import get_engine

    conn = get_engine(ctx.url).raw_connection()
    try:
        cur = conn.cursor()
        bare = _timed_insert(ctx, cur, "bench_ingest_observation", rows)
        conn.commit()
        cur.execute("DROP TABLE bench_ingest_observation")
        conn.commit()
        # a second apart from the loaded rows: same officers, codes, exams and index neighbourhoods
        at = OBS_COLS.index("observed_at")
        shifted = [r[:at] + (r[at] + dt.timedelta(seconds=1),) + r[at + 1:] for r in rows]
        table = _timed_insert(ctx, cur, "observation", shifted)
        conn.rollback()
    finally:
        conn.close()
    return bare, table, len(rows)


def _pg(ctx: BenchContext) -> bool:
    return ctx.url.startswith("postgresql")


def _timed_insert(ctx: BenchContext, cur, table: str, rows: list[tuple]) -> float:
    cols = ", ".join(OBS_COLS)
    t0 = time.perf_counter()
    if _pg(ctx):
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in OBS_COLS)
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    return time.perf_counter() - t0


def run(ctx: BenchContext) -> list[Result]:
    with ctx.session() as s:
        officers = [(b, n) for b, n in s.execute(select(Officer.badge, Officer.name).where(Officer.active)
                                                  .order_by(Officer.id)).all()]
    if not officers:
        return []
    _restore(ctx)
    history_end = _history_end(ctx)
    t0 = time.perf_counter()
    data = generate(officers)
    gen_s = time.perf_counter() - t0
    mapping = {"ignore": list(IGNORED)}
    backend = "PostgreSQL" if ctx.url.startswith("postgresql") else "SQLite"
    try:
        t0 = time.perf_counter()
        first = load_hospital_bytes(ctx.url, data, HOSPITAL, filename="bench_37400.csv", mapping=mapping, user="bench")
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = load_hospital_bytes(ctx.url, data, HOSPITAL, filename="bench_37400.csv", user="bench")
        rerun_s = time.perf_counter() - t0
        raw_s, table_s, raw_rows = _raw_insert(ctx, first["batch_id"])
    finally:
        _restore(ctx, history_end)
    exams, values = first["rows_read"], first["observations_inserted"]
    assert first["inserted"] == EXAMS and again["unchanged"] == EXAMS, (first, again)
    target = 15_000 if backend == "PostgreSQL" else None
    raw = "COPY" if target else "executemany"
    note = (f"{backend}: {exams:,} exams / {values:,} values in one batch, {exams / load_s:,.0f} exams/s "
            f"({values / load_s:,.0f} values/s) vs raw {raw} of the same {raw_rows:,} "
            f"rows {raw_rows / raw_s:,.0f} rows/s into a bare table (×{load_s / raw_s:.1f} of it) and "
            f"{raw_rows / table_s:,.0f} rows/s into observation itself with its indexes and foreign keys "
            f"({table_s:.1f} s: the floor); load / floor = {load_s / table_s:.2f} (goal ≤ {FLOOR_RATIO_GOAL}); "
            f"{first['officers_recomputed']:,} officers recomputed; file {len(data) / 1e6:.1f} MB made in {gen_s:.1f} s")
    return [
        Result("ingest_hospital_37k", load_s * 1000, load_s * 1000, raw_s * 1000, target, note=note),
        Result("ingest_hospital_37k_rerun", rerun_s * 1000, rerun_s * 1000, raw_s * 1000, target,
               note=f"same file again: {again['unchanged']:,} unchanged, {again['inserted']} inserted "
                    f"({exams / rerun_s:,.0f} rows/s)"),
    ]
