"""The finance chain of the app, derived from the used bookings: pricing -> cashflow -> invoice.

Each used booking (and each used school booking) gets a pricing on the day it is used: what pass
Culture owes its venue, in euro cents, negative as in the app (money leaving pass Culture). An
individual booking is reimbursed at a rate that falls with its venue's revenue of the calendar year,
this booking included (the degressive scale); digital offers are not reimbursed; school bookings are
reimbursed in full. Two pricing lines split it: the offerer's revenue (minus the booking's amount)
and the offerer's contribution (the part not reimbursed), summing to the pricing's amount.

Every 1st and 16th of the month a cashflow batch gathers, per venue, the pricings valued before its
cutoff (the day before): one cashflow each, then one invoice per cashflow two days later. Pricings
after the last cutoff stay `validated`; those in a cashflow are `processed`, then `invoiced`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.sandbox.db import SourceDB
from data_gcp.sandbox.world import SUB_DIGITAL, SUB_IDS, _np_float, _np_int, _np_ts, _ts, _ts_arrow

# (upper bound of the venue's yearly revenue in euros, rate, rule): the degressive scale
SCALE = (
    (20_000.0, 1.0, "Remboursement total pour les offres physiques"),
    (40_000.0, 0.95, "Remboursement à 95% entre 20 000 € et 40 000 € par lieu"),
    (150_000.0, 0.92, "Remboursement à 92% entre 40 000 € et 150 000 € par lieu"),
    (np.inf, 0.90, "Remboursement à 90% au-delà de 150 000 € par lieu"),
)
DIGITAL_RULE = "Pas de remboursement pour les offres numériques"
COLLECTIVE_RULE = "Remboursement total pour les offres éducationnelles"
COLLECTIVE_PRICING_BASE = 1_000_000_000  # school bookings' pricing ids, above any booking id
DAY = np.timedelta64(86400, "s")


def write_finance(db: SourceDB, horizon: np.datetime64) -> None:
    # the used bookings in Arrow columns: the largest read of the derived tables (no Python row)
    rows = db.fetch_arrow(
        "SELECT b.booking_id, b.venue_id, b.booking_amount * b.booking_quantity AS total, "
        'b.booking_used_date, o.offer_subcategory_id FROM "booking" b '
        'JOIN "stock" s ON s.stock_id = b.stock_id JOIN "offer" o ON o.offer_id = s.offer_id '
        "WHERE b.booking_used_date IS NOT NULL ORDER BY b.booking_id"
    )
    crow = db.fetch(
        "SELECT b.collective_booking_id, b.venue_id, s.collective_stock_price, b.collective_booking_used_date "
        'FROM "collective_booking" b JOIN "collective_stock" s ON s.collective_stock_id = b.collective_stock_id '
        "WHERE b.collective_booking_used_date IS NOT NULL ORDER BY 1"
    )
    bid, venue, total = _np_int(rows.column(0)), _np_int(rows.column(1)), _np_float(rows.column(2))
    used = _np_ts(rows.column(3))
    digital_subs = pa.array(SUB_IDS[SUB_DIGITAL].tolist(), pa.string())
    digital = np.asarray(pc.is_in(rows.column(4).cast(pa.string()), value_set=digital_subs), bool)
    # the venue's revenue of the year up to this booking (physical offers only)
    year = used.astype("datetime64[Y]").astype(np.int64)
    order = np.lexsort((bid, used, year, venue))
    counted = np.where(digital, 0.0, total)[order]
    group = np.r_[True, (venue[order][1:] != venue[order][:-1]) | (year[order][1:] != year[order][:-1])]
    cum = np.cumsum(counted)
    base = np.maximum.accumulate(np.where(group, cum - counted, 0))
    revenue = np.empty(len(bid))
    revenue[order] = cum - base
    band = np.searchsorted(np.array([s[0] for s in SCALE]), revenue, side="left")
    rate = np.where(digital, 0.0, np.array([s[1] for s in SCALE])[np.minimum(band, len(SCALE) - 1)])
    rule = np.where(digital, DIGITAL_RULE, np.array([s[2] for s in SCALE])[np.minimum(band, len(SCALE) - 1)])
    c_id = np.array([r[0] for r in crow], np.int64)
    # all pricings: individual then school bookings
    p_id = np.r_[bid, COLLECTIVE_PRICING_BASE + c_id]
    p_venue = np.r_[venue, np.array([r[1] for r in crow], np.int64)]
    p_total_cents = np.round(np.r_[total, np.array([r[2] for r in crow], float)] * 100).astype(np.int64)
    p_rate = np.r_[rate, np.ones(len(c_id))]
    p_rule = np.r_[rule, np.full(len(c_id), COLLECTIVE_RULE)]
    p_value = np.r_[used, _ts([r[3] for r in crow])]
    reimbursed = np.round(p_total_cents * p_rate).astype(np.int64)
    amount = -reimbursed
    # batches: the 1st and 16th of each month from the first pricing to the horizon
    if len(p_id):
        first = p_value.min().astype("datetime64[M]")
        months = np.arange(first, horizon.astype("datetime64[M]") + 1)
        days = np.sort(np.r_[months.astype("datetime64[D]"), months.astype("datetime64[D]") + 15])
        b_created = days.astype("datetime64[s]") + np.timedelta64(6 * 3600, "s")
        keep = (b_created <= horizon) & (b_created > p_value.min())
        b_created = b_created[keep]
    else:
        b_created = np.array([], "datetime64[s]")
    cutoff = b_created.astype("datetime64[D]").astype("datetime64[s]") - np.timedelta64(1, "s")
    batch_ids = np.arange(1, len(b_created) + 1)
    db.insert(
        "cashflow_batch",
        pa.table(
            {
                "cashflow_batch_id": batch_ids,
                "cashflow_batch_label": [f"VIR{i}" for i in batch_ids],
                "cashflow_batch_creation_date": _ts_arrow(b_created),
                "cashflow_batch_cutoff": _ts_arrow(cutoff),
            }
        ),
    )
    # the batch of each pricing: the first cutoff at or after its value date (0: none yet)
    p_batch = np.searchsorted(cutoff, p_value, side="left") + 1
    in_batch = p_batch <= len(batch_ids)
    key = p_batch.astype(np.int64) * (1 << 32) + p_venue
    cf_keys, cf_index = np.unique(key[in_batch], return_inverse=True)
    cf_ids = np.arange(1, len(cf_keys) + 1)
    cf_batch = (cf_keys >> 32).astype(np.int64)
    cf_venue = (cf_keys & ((1 << 32) - 1)).astype(np.int64)
    cf_amount = np.bincount(cf_index, weights=amount[in_batch], minlength=len(cf_keys)).astype(np.int64)
    cf_created = b_created[cf_batch - 1] if len(cf_keys) else np.array([], "datetime64[s]")
    inv_created = cf_created + 2 * DAY
    invoiced = inv_created <= horizon
    db.insert(
        "cashflow",
        pa.table(
            {
                "cashflow_id": cf_ids,
                "cashflow_batch_id": cf_batch,
                "venue_id": cf_venue,
                "cashflow_status": np.where(invoiced, "accepted", "under review"),
                "cashflow_amount": cf_amount,
                "cashflow_creation_date": _ts_arrow(cf_created),
            }
        ),
    )
    p_cashflow = np.zeros(len(p_id), np.int64)
    p_cashflow[in_batch] = cf_ids[cf_index]
    status = np.where(~in_batch, "validated", "processed")
    if len(cf_ids):
        status = np.where(in_batch & invoiced[np.maximum(p_cashflow, 1) - 1], "invoiced", status)
    db.insert(
        "pricing",
        pa.table(
            {
                "pricing_id": p_id,
                "booking_id": pa.array(
                    np.r_[bid, np.zeros(len(c_id), np.int64)],
                    mask=np.r_[np.zeros(len(bid), bool), np.ones(len(c_id), bool)],
                ),
                "collective_booking_id": pa.array(
                    np.r_[np.zeros(len(bid), np.int64), c_id],
                    mask=np.r_[np.ones(len(bid), bool), np.zeros(len(c_id), bool)],
                ),
                "venue_id": p_venue,
                "pricing_status": status,
                "pricing_amount": amount,
                "pricing_standard_rule": p_rule,
                "pricing_creation_date": _ts_arrow(p_value + np.timedelta64(3600, "s")),
                "pricing_value_date": _ts_arrow(p_value),
            }
        ),
    )
    db.insert(
        "pricing_line",
        pa.table(
            {
                "pricing_line_id": np.r_[p_id * 2, p_id * 2 + 1],
                "pricing_id": np.r_[p_id, p_id],
                "pricing_line_category": np.r_[
                    np.full(len(p_id), "offerer revenue"), np.full(len(p_id), "offerer contribution")
                ],
                "pricing_line_amount": np.r_[-p_total_cents, p_total_cents - reimbursed],
            }
        ),
    )
    db.insert(
        "cashflow_pricing", pa.table({"cashflow_id": p_cashflow[in_batch], "pricing_id": p_id[in_batch]})
    )
    offerer = dict(db.fetch('SELECT venue_id, venue_managing_offerer_id FROM "venue"'))
    inv = np.flatnonzero(invoiced)
    inv_ids = np.arange(1, len(inv) + 1)
    years = cf_created[inv].astype("datetime64[Y]").astype(np.int64) + 1970
    db.insert(
        "invoice",
        pa.table(
            {
                "invoice_id": inv_ids,
                "invoice_reference": [f"F{y % 100:02d}{i:07d}" for y, i in zip(years, inv_ids, strict=True)],
                "offerer_id": np.array([offerer[int(x)] for x in cf_venue[inv]], np.int64),
                "invoice_amount": -cf_amount[inv],
                "invoice_creation_date": _ts_arrow(inv_created[inv]),
            }
        ),
    )
    db.insert("invoice_cashflow", pa.table({"invoice_id": inv_ids, "cashflow_id": cf_ids[inv]}))
