"""A tiny, hand-written raw layer (the contract's tables and columns) for developing the dbt models.

Why: the dbt project must be testable before and independently of the sandbox generator; the
end-to-end test uses the real sandbox + import, this one only checks the models against the contract.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pyarrow as pa

from data_gcp.api_referentials import referential_tables
from data_gcp.applicative_schema import APP_TABLES, arrow_schema
from data_gcp.offer_categories import SUBCATEGORIES, backend_subcategories_v2
from data_gcp.warehouse import Warehouse

DAY0 = dt.datetime(2026, 11, 1, 9, 0, 0)


def _ts(days: float) -> dt.datetime:
    return DAY0 + dt.timedelta(days=days)


def write_fixture(wh: Warehouse, users: int = 40, offers: int = 60, seed: int = 7) -> None:
    """Write every raw table the dbt sources declare (replace mode), small and consistent."""
    rnd = random.Random(seed)
    subs = list(SUBCATEGORIES)
    tables: dict[str, list[dict]] = {
        k: []
        for k in (
            "user",
            "deposit",
            "recredit",
            "offerer",
            "venue",
            "product",
            "offer",
            "stock",
            "booking",
            "favorite",
            "reco_display_log",
            "collective_offer",
            "collective_stock",
            "collective_booking",
            "educational_institution",
        )
    }
    for i in range(1, users + 1):
        age = rnd.choice([15, 16, 17, 18, 18, 18])
        tables["user"].append(
            dict(
                user_id=i,
                user_creation_date=_ts(-rnd.randint(30, 400)),
                user_role="UNDERAGE_BENEFICIARY" if age < 18 else "BENEFICIARY",
                user_birth_date=(DAY0 - dt.timedelta(days=365 * age + rnd.randint(0, 300))).date(),
                user_department_code=rnd.choice(["75", "13", "69", "2A", "971"]),
                user_postal_code="75001",
                user_city="Paris",
                user_is_active=True,
                user_last_connection_date=_ts(-1),
                user_has_enabled_marketing_email=bool(i % 2),
                user_has_enabled_marketing_push=True,
            )
        )
        tables["deposit"].append(
            dict(
                deposit_id=i,
                user_id=i,
                deposit_amount=300.0 if age >= 18 else 30.0,
                deposit_source="dms",
                deposit_type="GRANT_18" if age >= 18 else "GRANT_15_17",
                deposit_creation_date=_ts(-20),
                deposit_update_date=_ts(-20),
                deposit_expiration_date=_ts(700),
            )
        )
    tables["recredit"].append(
        dict(
            recredit_id=1,
            deposit_id=1,
            recredit_amount=30.0,
            recredit_type="RECREDIT_16",
            recredit_creation_date=_ts(-5),
        )
    )
    for i in range(1, 4):
        tables["offerer"].append(
            dict(
                offerer_id=i,
                offerer_name=f"Offerer {i}",
                offerer_siren=f"{i:09d}",
                offerer_is_active=True,
                offerer_validation_status="VALIDATED",
                offerer_creation_date=_ts(-500),
                offerer_validation_date=_ts(-490),
            )
        )
    for i in range(1, 7):
        virtual = i == 6
        tables["venue"].append(
            dict(
                venue_id=i,
                venue_managing_offerer_id=(i % 3) + 1,
                venue_name=f"Venue {i}",
                venue_public_name=None,
                venue_siret=None,
                venue_type_code="DIGITAL" if virtual else "BOOKSTORE",
                venue_is_permanent=True,
                venue_is_open_to_public=not virtual,
                venue_is_virtual=virtual,
                venue_latitude=None if virtual else 48.85 + i / 100,
                venue_longitude=None if virtual else 2.35,
                venue_postal_code="75001",
                venue_department_code="75",
                venue_city="Paris",
            )
        )
    for i in range(1, 11):
        tables["product"].append(
            dict(
                product_id=i,
                product_name=f"Book {i}",
                product_subcategory_id="LIVRE_PAPIER",
                product_ean=f"978{i:010d}",
                product_extra_data=json.dumps({"author": f"Author {i}"}),
                product_last_30_days_booking=i,
            )
        )
    stock_id = 0
    for i in range(1, offers + 1):
        has_product = i <= 20
        sub = subs[0] if has_product else subs[i % len(subs)]
        tables["offer"].append(
            dict(
                offer_id=i,
                offer_product_id=(i % 10) + 1 if has_product else None,
                venue_id=6 if sub.is_digital else (i % 5) + 1,
                offer_subcategory_id=sub.id,
                offer_name=f"Offer {i}",
                offer_description="desc",
                offer_is_active=i % 13 != 0,
                offer_validation="APPROVED",
                offer_is_duo=False,
                offer_ean=None,
                offer_extra_data=json.dumps({"performer": "X"}),
                offer_creation_date=_ts(-60 + i % 30),
                offer_updated_date=_ts(-1),
                offer_publication_date=_ts(-60 + i % 30),
            )
        )
        for _ in range(2):
            stock_id += 1
            tables["stock"].append(
                dict(
                    stock_id=stock_id,
                    offer_id=i,
                    stock_price=float(rnd.randint(int(sub.price_min), int(sub.price_max))),
                    stock_quantity=rnd.choice([None, 5, 100]),
                    stock_beginning_date=_ts(400) if sub.is_event else None,
                    stock_booking_limit_date=None,
                    stock_creation_date=_ts(-60),
                    stock_modified_date=_ts(-2),
                    stock_is_soft_deleted=stock_id % 17 == 0,
                    price_category_id=None,
                )
            )
    events = []
    for b in range(1, users * 3 + 1):
        user = rnd.randint(1, users)
        stock = tables["stock"][rnd.randrange(stock_id)]
        offer = tables["offer"][stock["offer_id"] - 1]
        created = _ts(-18 + rnd.random() * 18)
        status = rnd.choice(["CONFIRMED", "USED", "CANCELLED", "USED"])
        tables["booking"].append(
            dict(
                booking_id=b,
                user_id=user,
                stock_id=stock["stock_id"],
                deposit_id=user,
                venue_id=offer["venue_id"],
                offerer_id=(offer["venue_id"] % 3) + 1,
                booking_amount=min(stock["stock_price"], 10.0),
                booking_quantity=1,
                booking_status=status,
                booking_creation_date=created,
                booking_used_date=created if status == "USED" else None,
                booking_cancellation_date=created if status == "CANCELLED" else None,
                booking_cancellation_reason="BENEFICIARY" if status == "CANCELLED" else None,
                booking_reimbursement_date=None,
            )
        )
    for e in range(users * 10):
        user = rnd.randint(1, users)
        offer_id = rnd.randint(1, offers)
        ts = _ts(-18 + rnd.random() * 18)
        call = f"call-{e % 30}"
        events.append(
            dict(
                event_date=ts.date(),
                event_timestamp=ts,
                event_name=rnd.choice(["ConsultOffer", "ConsultOffer", "Search", "ScreenView"]),
                user_id=str(user) if e % 9 else None,
                user_pseudo_id=f"dev-{user}",
                session_id=f"s-{user}-{ts.date()}",
                platform="android",
                app_version="1.0",
                offer_id=str(offer_id),
                origin="home",
                reco_call_id=call,
                search_query=None,
                venue_id=None,
                duration_seconds=None,
            )
        )
        tables["reco_display_log"].append(
            dict(
                call_id=call,
                user_id=user,
                offer_id=offer_id,
                position=e % 10,
                context="home",
                model_version="v0",
                displayed_at=ts - dt.timedelta(minutes=5),
            )
        )
    for f in range(1, users + 1):
        tables["favorite"].append(
            dict(favorite_id=f, user_id=f, offer_id=(f % offers) + 1, favorite_creation_date=_ts(-3))
        )
    # dedupe display log on (call_id, offer_id)
    seen: set = set()
    tables["reco_display_log"] = [
        r
        for r in tables["reco_display_log"]
        if (r["call_id"], r["offer_id"]) not in seen and not seen.add((r["call_id"], r["offer_id"]))
    ]
    tables["educational_institution"].append(
        dict(
            educational_institution_id=1,
            institution_uai="0750001A",
            institution_name="Lycée",
            institution_type="LYCEE GENERAL",
            institution_city="Paris",
            institution_department_code="75",
        )
    )
    tables["collective_offer"].append(
        dict(
            collective_offer_id=1,
            venue_id=1,
            collective_offer_name="Visite",
            collective_offer_students="Lycée - Seconde",
            collective_offer_format="Visite",
            collective_offer_is_active=True,
            collective_offer_validation="APPROVED",
            educational_institution_id=None,
            collective_offer_creation_date=_ts(-10),
            collective_offer_updated_date=_ts(-10),
        )
    )
    tables["collective_stock"].append(
        dict(
            collective_stock_id=1,
            collective_offer_id=1,
            collective_stock_price=100.0,
            collective_stock_number_of_tickets=30,
            collective_stock_beginning_date=_ts(30),
            collective_stock_booking_limit_date=_ts(23),
            collective_stock_creation_date=_ts(-10),
            collective_stock_modification_date=_ts(-10),
        )
    )
    tables["collective_booking"].append(
        dict(
            collective_booking_id=1,
            collective_stock_id=1,
            venue_id=1,
            offerer_id=2,
            educational_institution_id=1,
            educational_year_id="2026-2027",
            collective_booking_status="CONFIRMED",
            collective_booking_creation_date=_ts(-1),
            collective_booking_confirmation_date=_ts(0),
            collective_booking_used_date=None,
            collective_booking_cancellation_date=None,
            collective_booking_cancellation_reason=None,
            collective_booking_reimbursement_date=None,
        )
    )
    for name, rows in tables.items():
        wh.load(f"raw.applicative_database_{name}", pa.Table.from_pylist(rows), mode="replace")
    wh.load("raw.firebase_events", pa.Table.from_pylist(events), mode="replace")
    for spec in APP_TABLES:  # the app's other tables (tags, finance, Adage logs...): present, empty
        if spec.name not in tables and spec.name != "app_event":
            wh.load(spec.raw_table, arrow_schema(spec).empty_table(), mode="replace")
    pro_events, pro_log = [], []
    for e in range(users * 2):
        ts = _ts(-18 + e * 18 / (users * 2))
        page = rnd.choice(["Espace acteurs culturels", "Offres individuelles", "Guichet", "Statistiques"])
        for name in ("page_view", "hasClickedOffer") if page == "Offres individuelles" else ("page_view",):
            pro_events.append(
                dict(
                    event_date=ts.date(),
                    event_timestamp=ts,
                    event_name=name,
                    user_id=100_000_000 + e % 5,
                    user_pseudo_id=f"pro-{e % 5}",
                    session_id=str(e // 3),
                    session_number=1 + e // 3,
                    page_title=f"{page} - pass Culture Pro",
                    page_location="https://passculture.pro/offres",
                    page_referrer=None,
                    origin=None,
                    offerer_id=(e % 3) + 1,
                    venue_id=(e % 3) + 1,
                    offer_id=(e % offers) + 1 if name == "hasClickedOffer" else None,
                    download_format=None,
                    traffic_source="(direct)",
                    traffic_medium="(none)",
                    traffic_campaign=None,
                    user_device_category="desktop",
                    user_web_browser="Firefox",
                )
            )
        pro_log.append(
            dict(
                log_id=f"log-{e}",
                log_timestamp=ts,
                partition_date=ts.date(),
                message="Offer has been created",
                analytics_source=None,
                user_id=100_000_000 + e % 5,
                offerer_id=(e % 3) + 1,
                venue_id=(e % 3) + 1,
                offer_id=(e % offers) + 1,
                user_satisfaction=None,
                user_comment=None,
            )
        )
    wh.load("raw.firebase_pro_events", pa.Table.from_pylist(pro_events), mode="replace")
    wh.load("raw.pcapi_pro_log", pa.Table.from_pylist(pro_log), mode="replace")
    for name, table in referential_tables(backend_subcategories_v2(), DAY0.date()).items():
        wh.load(f"raw.{name}", table, mode="replace")
