"""Refresh case: a newer export of the same CRM updates a stored dataset by lead id.

The stored dataset is the demo leads (``generate_leads(rows, seed=7)``); the newer export is
the same leads with a twentieth changed (open leads won, then a behaviour count moved where
there are too few open leads) and a tenth more new leads: at 1M rows, 50k changed and 100k new.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from bench.harness import Trial, Workspace, case
from funnel.demo import generate_leads
from funnel.ingest import Prepared, choose_mapping, prepare
from funnel.readers import SourceFile
from funnel.store import Store


def newer_export(frame: pd.DataFrame) -> pd.DataFrame:
    """The same leads, ``len // 20`` of them changed, and ``len // 10`` new ones.

    >>> old = generate_leads(200)
    >>> new = newer_export(old)
    >>> len(new), int((~new["lead_id"].isin(old["lead_id"])).sum())
    (220, 20)
    """
    rows = len(frame)
    newer = frame.copy()
    changed = rows // 20
    opened = np.flatnonzero((newer["outcome"] == "Open").to_numpy())[:changed]
    newer.loc[newer.index[opened], "outcome"] = "Won"
    rest = np.flatnonzero((newer["outcome"] != "Open").to_numpy())[: changed - len(opened)]
    newer.loc[newer.index[rest], "web_visits"] += 1
    fresh = generate_leads(max(rows // 10, 1), seed=8)
    fresh["lead_id"] = "N" + pd.Series(np.arange(len(fresh))).astype("str").str.zfill(8)
    return pd.concat([newer, fresh.iloc[: rows // 10]], ignore_index=True)


def pandas_refresh(old: pd.DataFrame, new: pd.DataFrame, now: pd.Timestamp) -> dict[str, int]:
    """The same refresh with pandas: counts by lead id, then the merged leads with their times.

    >>> old = generate_leads(100).assign(first_seen=pd.Timestamp("2026-01-01"))
    >>> pandas_refresh(old, newer_export(old.drop(columns="first_seen")), pd.Timestamp.now())
    {'added': 10, 'changed': 5, 'unchanged': 95, 'missing': 0, 'leads': 110}
    """
    columns = [c for c in new.columns if c != "lead_id" and c in old.columns]
    joined = old.merge(new, on="lead_id", how="outer", suffixes=("_o", "_n"), indicator=True)
    both = joined["_merge"] == "both"
    differs = pd.Series(False, index=joined.index)
    for column in columns:
        a, b = joined[f"{column}_o"], joined[f"{column}_n"]
        differs |= ~((a == b).fillna(False).astype(bool) | (a.isna() & b.isna()))
    seen = old.set_index("lead_id")["first_seen"]
    merged = pd.concat(
        [
            new.assign(first_seen=new["lead_id"].map(seen).fillna(now)),
            old[~old["lead_id"].isin(new["lead_id"])],
        ],
        ignore_index=True,
    )
    return {
        "added": int((joined["_merge"] == "right_only").sum()),
        "changed": int((both & differs).sum()),
        "unchanged": int((both & ~differs).sum()),
        "missing": int((joined["_merge"] == "left_only").sum()),
        "leads": len(merged),
    }


@case(
    "refresh",
    "Store.refresh of the stored demo by a newer export (rows/10 new, rows/20 changed) vs the "
    "same counts and merge in pandas",
)
def refresh_case(ws: Workspace) -> Trial:
    # funnel: Store.refresh on a copy of a database holding the demo (copied untimed before each
    # call): the compatibility checks, the counts planned inside the transaction, the merged
    # tables written into a new schema, the catalog and the load history, committed (and the
    # store closed, which checkpoints). The files are prepared untimed (that is the load case).
    # baseline: pandas counts added/changed/unchanged/missing over the same columns and builds
    # the merged leads with their first-seen times, in memory (no storage).
    base = ws.demo_frame()
    newer = newer_export(base)
    source = SourceFile("crm-later.csv", newer, "csv")
    with ws.step("preparing the stored demo and the newer export"):
        first = SourceFile("crm.csv", base, "csv")
        prepared_first = prepare(first, choose_mapping(first))
        prepared: Prepared = prepare(source, choose_mapping(source))
    template = ws.path("refresh-template.duckdb")
    with Store(template) as store:
        store.save("crm", prepared_first)
        stored = store.fetch_frame(f"SELECT * FROM {store.require('crm').table()}")
    old = base.assign(first_seen=stored["_funnel_first_seen"].to_numpy())
    db = ws.path("refresh.duckdb")
    expected = len(newer)  # every stored lead is in the newer export

    def copy_template() -> None:
        db.with_name(db.name + ".wal").unlink(missing_ok=True)
        shutil.copyfile(template, db)

    def run() -> None:
        with Store(db) as store:
            info, plan = store.refresh("crm", prepared, accept_changed_outcomes=True)
            if info.leads != expected or plan.added != len(newer) - len(base):
                raise RuntimeError(f"expected {expected:,} leads, got {info.leads:,}")

    def baseline() -> None:
        counts = pandas_refresh(old, newer, pd.Timestamp.now())
        if counts["leads"] != expected:
            raise RuntimeError(f"expected {expected:,} leads, got {counts['leads']:,}")

    del stored  # only the first-seen times were needed
    return Trial(run=run, baseline=baseline, reset=copy_template)
