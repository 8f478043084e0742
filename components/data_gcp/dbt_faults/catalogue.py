"""The planted-fault catalogue: each entry breaks one thing in a copy of the raw layer, as a faulty
import, a backend bug or a lost batch would, and names the data tests that must fail on it.

The SQL runs on the DuckDB warehouse (schema `raw`). `{n}` in it is the fault's number in the
catalogue, so that faults planted together pick different rows. Rows are mostly planted as new copies
of existing ones (ids from 900000): a copied non-cancelled booking is free (amount 0) and on a stock
without a quantity, so that it breaks nothing but what the fault is about.
"""

from __future__ import annotations

from dataclasses import dataclass

CLASSES = ("keys", "orphans", "amounts", "statuses", "cross-entity", "lifecycle", "freshness", "volume")

BOOKING = "raw.applicative_database_booking"
DEPOSIT = "raw.applicative_database_deposit"
STOCK = "raw.applicative_database_stock"
USER = "raw.applicative_database_user"
CBOOKING = "raw.applicative_database_collective_booking"
EVENTS = "raw.firebase_events"
NEW_ID = "900000 + {n}"
PRICING = "raw.applicative_database_pricing"
PRICING_LINE = "raw.applicative_database_pricing_line"
INVOICED = "pricing_status = 'invoiced'"
# a physical offer's pricing reimbursed in full, large enough that 80% of it differs by over a cent
FULL_RATE = (
    "pricing_standard_rule = 'Remboursement total pour les offres physiques' and pricing_amount <= -500"
)


@dataclass(frozen=True)
class Fault:
    """One planted fault: `sql` plants it in `tables` (dbt sources; `raw.` when no source is named);
    each test of `expect` must fail.

    `check` is `build` (dbt builds what the tables feed, then tests it), `source_tests` (the tests on
    the raw tables themselves: volume and distribution) or `freshness` (dbt's source freshness of the
    tables, which is not a data test)."""

    name: str
    fault_class: str
    description: str
    tables: tuple[str, ...]
    sql: tuple[str, ...]
    expect: tuple[str, ...]
    check: str = "build"
    solo: bool = False  # planted alone: it moves rows other faults rely on


def _copy_booking(where: str, **set_: str) -> str:
    """Insert a copy of the first booking matching `where` (offset by the fault number) with a new id
    and the columns of `set_` replaced."""
    new_id = [] if "booking_id" in set_ else [f"{NEW_ID} as booking_id"]
    replace = ", ".join([*new_id, *(f"{v} as {k}" for k, v in set_.items())])
    return (
        f"insert into {BOOKING} select * replace ({replace}) from {BOOKING} "
        f"where {where} order by booking_id limit 1"
    )


# a booking that changes no total when copied: cancelled, or free on a stock without a quantity
CANCELLED = "booking_status = 'CANCELLED'"
REIMBURSED_FREE_STOCK = f"booking_status = 'REIMBURSED' and stock_id in (select stock_id from {STOCK} where stock_quantity is null)"
FREE = {"booking_amount": "0.0"}


def _copy_collective(**set_: str) -> str:
    replace = ", ".join([f"{NEW_ID} as collective_booking_id", *(f"{v} as {k}" for k, v in set_.items())])
    return (
        f"insert into {CBOOKING} select * replace ({replace}) from {CBOOKING} "
        "where collective_booking_status = 'REIMBURSED' order by collective_booking_id limit 1"
    )


def _pick(table: str, key: str, where: str = "true") -> str:
    return f"(select {key} from {table} where {where} order by {key} limit 1 offset {{n}})"


CATALOGUE: tuple[Fault, ...] = (
    # ---- keys
    Fault(
        "booking_duplicated",
        "keys",
        "the import copies a booking twice (same booking_id)",
        ("applicative_database_booking",),
        (
            f"insert into {BOOKING} select * from {BOOKING} where booking_id = {_pick(BOOKING, 'booking_id', CANCELLED)}",
        ),
        ("unique_mrt_global__booking_booking_id",),
    ),
    Fault(
        "user_duplicated",
        "keys",
        "a user row twice (a replayed incremental import)",
        ("applicative_database_user",),
        (f"insert into {USER} select * from {USER} where user_id = {_pick(USER, 'user_id')}",),
        ("unique_mrt_global__user_user_id",),
    ),
    Fault(
        "offer_duplicated",
        "keys",
        "an offer row twice",
        ("applicative_database_offer",),
        (
            "insert into raw.applicative_database_offer select * from raw.applicative_database_offer "
            f"where offer_id = {_pick('raw.applicative_database_offer', 'offer_id')}",
        ),
        ("unique_mrt_global__offer_offer_id",),
    ),
    Fault(
        "stock_duplicated",
        "keys",
        "a stock row twice",
        ("applicative_database_stock",),
        (f"insert into {STOCK} select * from {STOCK} where stock_id = {_pick(STOCK, 'stock_id')}",),
        ("unique_mrt_global__stock_stock_id",),
    ),
    Fault(
        "deposit_duplicated",
        "keys",
        "a deposit row twice",
        ("applicative_database_deposit",),
        (f"insert into {DEPOSIT} select * from {DEPOSIT} where deposit_id = {_pick(DEPOSIT, 'deposit_id')}",),
        ("unique_mrt_global__deposit_deposit_id",),
    ),
    Fault(
        "booking_without_id",
        "keys",
        "a booking with a null id",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_id="null"),),
        ("not_null_mrt_global__booking_booking_id",),
    ),
    # ---- orphans
    Fault(
        "booking_of_missing_stock",
        "orphans",
        "a booking whose stock is not in the stock table",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, stock_id="987654321"),),
        ("assert_booking_matches_its_stock_offer_and_venue",),
    ),
    Fault(
        "booking_of_missing_user",
        "orphans",
        "a booking whose user is not in the user table",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, user_id="987654321"),),
        ("relationships_mrt_global__booking_user_id__user_id__ref_mrt_global__user_",),
    ),
    Fault(
        "booking_without_deposit",
        "orphans",
        "a booking paid from no deposit",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, deposit_id="null"),),
        ("assert_booking_deposit_is_its_users_and_active",),
    ),
    Fault(
        "deposit_of_missing_user",
        "orphans",
        "a deposit whose user is not in the user table",
        ("applicative_database_deposit",),
        (
            f"insert into {DEPOSIT} select * replace ({NEW_ID} as deposit_id, 987654321 as user_id) "
            f"from {DEPOSIT} where deposit_id = {_pick(DEPOSIT, 'deposit_id')}",
        ),
        ("relationships_mrt_global__deposit_user_id__user_id__ref_mrt_global__user_",),
    ),
    Fault(
        "offer_of_missing_venue",
        "orphans",
        "an offer whose venue is not in the venue table",
        ("applicative_database_offer",),
        (
            "update raw.applicative_database_offer set venue_id = 987654321 "
            f"where offer_id = {_pick('raw.applicative_database_offer', 'offer_id')}",
        ),
        ("relationships_mrt_global__offer_venue_id__venue_id__ref_mrt_global__venue_",),
    ),
    Fault(
        "favorite_of_missing_offer",
        "orphans",
        "a favourite on an offer that does not exist",
        ("applicative_database_favorite",),
        (
            "update raw.applicative_database_favorite set offer_id = 987654321 where favorite_id = "
            + _pick("raw.applicative_database_favorite", "favorite_id"),
        ),
        ("relationships_mrt_global__favorite_offer_id__offer_id__ref_mrt_global__offer_",),
    ),
    Fault(
        "venue_of_missing_offerer",
        "orphans",
        "a venue whose offerer is not in the offerer table",
        ("applicative_database_venue",),
        (
            "update raw.applicative_database_venue set venue_managing_offerer_id = 987654321 where venue_id = "
            + _pick("raw.applicative_database_venue", "venue_id"),
        ),
        ("relationships_mrt_global__venue_offerer_id__offerer_id__ref_mrt_global__offerer_",),
    ),
    Fault(
        "collective_booking_of_missing_school",
        "orphans",
        "a school booking for an institution that does not exist",
        ("applicative_database_collective_booking",),
        (_copy_collective(educational_institution_id="987654321"),),
        ("assert_collective_booking_matches_its_stock_school_and_year",),
    ),
    # ---- amounts
    Fault(
        "deposit_overspent",
        "amounts",
        "a 300 EUR deposit with 2,339 EUR of non-cancelled bookings (bookings priced far above their stock)",
        ("applicative_database_booking",),
        (
            f"update {BOOKING} set booking_amount = 2339.0 / booking_quantity where booking_id = "
            f"(select min(booking_id) from {BOOKING} where booking_status <> 'CANCELLED' and deposit_id = "
            f"(select deposit_id from {DEPOSIT} where deposit_type = 'GRANT_18' and deposit_amount = 300 "
            "order by deposit_id limit 1 offset 1))",
        ),
        ("assert_deposit_spent_within_granted",),
    ),
    Fault(
        "booking_negative_amount",
        "amounts",
        "a booking with a negative amount (a refund written as a booking)",
        ("applicative_database_booking",),
        (
            _copy_booking(
                REIMBURSED_FREE_STOCK
                + f" and deposit_id in (select deposit_id from {DEPOSIT} where deposit_expiration_date > now())",
                booking_amount="-100000.0",
            ),
        ),
        (
            "expression_is_true_mrt_global__booking_booking_intermediary_amount_0",
            "expression_is_true_mrt_global__deposit_deposit_spent_amount_0",
            "expression_is_true_mrt_global__stock_booking_amount_0",
            "expression_is_true_mrt_global__deposit_deposit_remaining_credit_deposit_amount_0_001",
        ),
    ),
    Fault(
        "deposit_amount_unheard_of",
        "amounts",
        "a GRANT_18 deposit of 3,000 EUR",
        ("applicative_database_deposit",),
        (
            f"update {DEPOSIT} set deposit_amount = 3000 where deposit_id = "
            + _pick(DEPOSIT, "deposit_id", "deposit_type = 'GRANT_18'"),
        ),
        ("assert_deposit_grant_follows_its_type_and_period",),
    ),
    Fault(
        "deposit_amount_of_another_period",
        "amounts",
        "a GRANT_18 deposit of 500 EUR granted after 2023-03-01 (the old amount)",
        ("applicative_database_deposit",),
        (
            f"update {DEPOSIT} set deposit_amount = 500 where deposit_id = "
            + _pick(
                DEPOSIT, "deposit_id", "deposit_type = 'GRANT_18' and deposit_creation_date >= '2023-03-01'"
            ),
        ),
        ("assert_deposit_grant_follows_its_type_and_period",),
    ),
    Fault(
        "recredit_not_added",
        "amounts",
        "a recredit recorded without being added to its deposit's amount",
        ("applicative_database_recredit",),
        (
            "insert into raw.applicative_database_recredit select * replace "
            f"({NEW_ID} as recredit_id, d.deposit_id as deposit_id) from raw.applicative_database_recredit, "
            f"(select deposit_id from {DEPOSIT} where deposit_type = 'GRANT_17_18' and deposit_amount = 150 "
            "order by deposit_id limit 1 offset {n}) as d limit 1",
        ),
        ("assert_deposit_grant_follows_its_type_and_period",),
    ),
    Fault(
        "stock_negative_price",
        "amounts",
        "a stock with a negative price",
        ("applicative_database_stock",),
        (f"update {STOCK} set stock_price = -5 where stock_id = {_pick(STOCK, 'stock_id')}",),
        ("expression_is_true_mrt_global__stock_stock_price_0",),
    ),
    Fault(
        "booking_quantity_three",
        "amounts",
        "a booking of 3 places (one, or two on a duo offer, are possible)",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_quantity="3"),),
        ("assert_booking_matches_its_stock_offer_and_venue",),
    ),
    Fault(
        "collective_stock_negative_price",
        "amounts",
        "a school outing with a negative price",
        ("applicative_database_collective_stock",),
        (
            "update raw.applicative_database_collective_stock set collective_stock_price = -100 where "
            f"collective_stock_id = (select min(collective_stock_id) from {CBOOKING})",
        ),
        ("expression_is_true_mrt_global__collective_stock_collective_stock_price_0",),
    ),
    # ---- statuses
    Fault(
        "booking_status_unknown",
        "statuses",
        "a booking status the app does not have",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_status="'PENDING'"),),
        ("accepted_values_mrt_global__booking_booking_status__CONFIRMED__USED__CANCELLED__REIMBURSED",),
    ),
    Fault(
        "deposit_type_unknown",
        "statuses",
        "a deposit type the app does not have",
        ("applicative_database_deposit",),
        (
            f"update {DEPOSIT} set deposit_type = 'GRANT_21' where deposit_id = {_pick(DEPOSIT, 'deposit_id')}",
        ),
        ("accepted_values_mrt_global__deposit_deposit_type__GRANT_15_17__GRANT_18__GRANT_17_18",),
    ),
    Fault(
        "user_role_unknown",
        "statuses",
        "a user role the app does not have",
        ("applicative_database_user",),
        (f"update {USER} set user_role = 'SUPERUSER' where user_id = {_pick(USER, 'user_id')}",),
        (
            "accepted_values_mrt_global__user_beneficiary_user_role__BENEFICIARY__UNDERAGE_BENEFICIARY__USER__ANONYMIZED",
        ),
    ),
    Fault(
        "collective_status_unknown",
        "statuses",
        "a school booking status the app does not have",
        ("applicative_database_collective_booking",),
        (_copy_collective(collective_booking_status="'LOST'"),),
        (
            "accepted_values_mrt_global__collective_booking_collective_booking_status__PENDING__CONFIRMED__USED__CANCELLED__REIMBURSED",
        ),
    ),
    Fault(
        "cancellation_reason_unknown",
        "statuses",
        "a cancellation reason the app does not have",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_cancellation_reason="'BORED'"),),
        (
            "accepted_values_mrt_global__booking_booking_cancellation_reason__BENEFICIARY__OFFERER__EXPIRED__FRAUD__REFUSED_BY_INSTITUTE__BACKOFFICE",
        ),
    ),
    # ---- cross-entity rules
    Fault(
        "booking_on_another_users_deposit",
        "cross-entity",
        "a booking that spends another user's deposit",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED,
                deposit_id=f"(select min(deposit_id) from {DEPOSIT} d where d.user_id <> {BOOKING}.user_id)",
            ),
        ),
        ("assert_booking_deposit_is_its_users_and_active",),
    ),
    Fault(
        "booking_before_its_deposit",
        "cross-entity",
        "a booking made before its deposit was granted",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED,
                booking_creation_date=(
                    f"(select deposit_creation_date - interval 2 day from {DEPOSIT} d "
                    f"where d.deposit_id = {BOOKING}.deposit_id)"
                ),
                booking_cancellation_date=(
                    f"(select deposit_creation_date - interval 1 day from {DEPOSIT} d "
                    f"where d.deposit_id = {BOOKING}.deposit_id)"
                ),
            ),
        ),
        ("assert_booking_deposit_is_its_users_and_active",),
    ),
    Fault(
        "stock_overbooked",
        "cross-entity",
        "a stock with quantity 1 and several non-cancelled bookings",
        ("applicative_database_stock",),
        (
            f"update {STOCK} set stock_quantity = 1 where stock_id = (select stock_id from {BOOKING} "
            "where booking_status <> 'CANCELLED' group by stock_id having sum(booking_quantity) >= 2 "
            "order by stock_id limit 1 offset 3)",
        ),
        ("assert_stock_booked_within_quantity",),
    ),
    Fault(
        "booking_venue_not_its_offers",
        "cross-entity",
        "a booking whose venue is not its offer's venue",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED,
                venue_id=(
                    "(select min(venue_id) from raw.applicative_database_venue v "
                    f"where v.venue_id <> {BOOKING}.venue_id)"
                ),
            ),
        ),
        ("assert_booking_matches_its_stock_offer_and_venue",),
    ),
    Fault(
        "underage_grant_to_an_adult",
        "cross-entity",
        "a GRANT_15_17 deposit given to a user who was 25",
        ("applicative_database_user",),
        (
            f"update {USER} set user_birth_date = user_birth_date - interval 10 year where user_id = "
            f"(select user_id from {DEPOSIT} where deposit_type = 'GRANT_15_17' order by deposit_id limit 1 offset 2)",
        ),
        ("assert_deposit_grant_follows_its_type_and_period",),
    ),
    Fault(
        "duo_on_a_solo_offer",
        "cross-entity",
        "two places booked on an offer that is not duo",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED + " and stock_id in (select s.stock_id from raw.applicative_database_stock s join "
                "raw.applicative_database_offer o using (offer_id) where not o.offer_is_duo)",
                booking_quantity="2",
            ),
        ),
        ("assert_booking_matches_its_stock_offer_and_venue",),
    ),
    Fault(
        "collective_stock_booked_twice",
        "cross-entity",
        "a school outing booked by two classes",
        ("applicative_database_collective_booking",),
        (_copy_collective(),),
        ("assert_collective_booking_matches_its_stock_school_and_year",),
    ),
    Fault(
        "collective_booking_wrong_school_year",
        "cross-entity",
        "a school booking paid from the deposit of another school year",
        ("applicative_database_collective_booking",),
        (
            f"update {CBOOKING} set educational_year_id = '2019-2020' where collective_booking_id = "
            f"(select min(collective_booking_id) from {CBOOKING})",
        ),
        ("assert_collective_booking_matches_its_stock_school_and_year",),
    ),
    # ---- lifecycle dates
    Fault(
        "cancelled_without_date",
        "lifecycle",
        "a cancelled booking without a cancellation date",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_cancellation_date="null"),),
        ("assert_booking_status_matches_its_dates",),
    ),
    Fault(
        "cancelled_without_reason",
        "lifecycle",
        "a cancelled booking without a cancellation reason",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_cancellation_reason="null"),),
        ("assert_booking_status_matches_its_dates",),
    ),
    Fault(
        "used_before_created",
        "lifecycle",
        "a booking used before it was created",
        ("applicative_database_booking",),
        (
            _copy_booking(
                REIMBURSED_FREE_STOCK,
                booking_used_date="booking_creation_date - interval 3 day",
                booking_reimbursement_date="booking_creation_date - interval 1 day",
                **FREE,
            ),
        ),
        ("assert_booking_dates_follow_its_lifecycle",),
    ),
    Fault(
        "cancelled_before_created",
        "lifecycle",
        "a booking cancelled before it was created",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, booking_cancellation_date="booking_creation_date - interval 1 day"),),
        ("assert_booking_dates_follow_its_lifecycle",),
    ),
    Fault(
        "reimbursed_without_date",
        "lifecycle",
        "a reimbursed booking without a reimbursement date",
        ("applicative_database_booking",),
        (_copy_booking(REIMBURSED_FREE_STOCK, booking_reimbursement_date="null", **FREE),),
        ("assert_booking_status_matches_its_dates",),
    ),
    Fault(
        "booked_after_the_event",
        "lifecycle",
        "a booking created after its event began",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED
                + f" and stock_id in (select stock_id from {STOCK} where stock_beginning_date is not null)",
                booking_creation_date=f"(select stock_beginning_date + interval 1 day from {STOCK} s where s.stock_id = {BOOKING}.stock_id)",
                booking_cancellation_date=f"(select stock_beginning_date + interval 2 day from {STOCK} s where s.stock_id = {BOOKING}.stock_id)",
            ),
        ),
        ("assert_booking_matches_its_stock_offer_and_venue",),
    ),
    Fault(
        "booking_from_the_future",
        "lifecycle",
        "a booking created next month (a clock or time-zone bug)",
        ("applicative_database_booking",),
        (
            _copy_booking(
                CANCELLED,
                booking_creation_date="current_timestamp::timestamp + interval 30 day",
                booking_cancellation_date="current_timestamp::timestamp + interval 31 day",
            ),
        ),
        ("assert_booking_dates_follow_its_lifecycle",),
    ),
    Fault(
        "confirmed_with_used_date",
        "lifecycle",
        "a confirmed booking that has a used date",
        ("applicative_database_booking",),
        (
            _copy_booking(
                REIMBURSED_FREE_STOCK,
                booking_status="'CONFIRMED'",
                booking_reimbursement_date="null",
                **FREE,
            ),
        ),
        ("assert_booking_status_matches_its_dates",),
    ),
    Fault(
        "collective_cancelled_without_date",
        "lifecycle",
        "a cancelled school booking without a cancellation date",
        ("applicative_database_collective_booking",),
        (
            f"update {CBOOKING} set collective_booking_cancellation_date = null where collective_booking_status = 'CANCELLED'",
        ),
        ("assert_collective_booking_lifecycle",),
    ),
    Fault(
        "collective_used_before_created",
        "lifecycle",
        "a school booking used before it was created",
        ("applicative_database_collective_booking",),
        (
            f"update {CBOOKING} set collective_booking_used_date = collective_booking_creation_date - interval 5 day "
            "where collective_booking_status = 'REIMBURSED'",
        ),
        ("assert_collective_booking_lifecycle",),
    ),
    # ---- referentials and enums: one fault, every mart that carries the value
    Fault(
        "subcategory_moved_to_a_new_category",
        "statuses",
        "the backend referential puts books in a category the marts do not know",
        ("raw_api_referentials.subcategories",),
        ("update raw.subcategories set category_id = 'LIVRE_AUDIO' where category_id = 'LIVRE'",),
        (
            "accepted_values_mrt_global__offer_offer_category_id__CINEMA__CONFERENCE_RENCONTRE__FILM__INSTRUMENT__JEU__LIVRE__MEDIA__MUSEE__MUSIQUE_ENREGISTREE__MUSIQUE_LIVE__PRATIQUE_ART__SPECTACLE",
        ),
    ),
    Fault(
        "subcategory_duplicated",
        "keys",
        "a subcategory listed twice by the referential",
        ("raw_api_referentials.subcategories",),
        ("insert into raw.subcategories select * from raw.subcategories order by id limit 1",),
        ("source_unique_raw_api_referentials_subcategories_id",),
        check="source_tests",
    ),
    Fault(
        "offer_subcategory_unknown",
        "orphans",
        "an offer in a subcategory the referential does not have",
        ("applicative_database_offer",),
        (
            "update raw.applicative_database_offer set offer_subcategory_id = 'HOLOGRAMME' where offer_id = "
            + _pick("raw.applicative_database_offer", "offer_id"),
        ),
        ("not_null_mrt_global__stock_offer_category_id",),
    ),
    Fault(
        "venue_type_unknown",
        "statuses",
        "a venue type the app does not have",
        ("applicative_database_venue",),
        (
            "update raw.applicative_database_venue set venue_type_code = 'SPACESHIP' where venue_id in "
            "(select venue_id from raw.applicative_database_offer)",
        ),
        (
            "accepted_values_mrt_global__offer_metadata_venue_type_code__ADMINISTRATIVE__ARTISTIC_COURSE__BOOKSTORE__CONCERT_HALL__CREATIVE_ARTS_STORE__CULTURAL_CENTRE__DIGITAL__DISTRIBUTION_STORE__FESTIVAL__GAMES__LIBRARY__MOVIE__MUSEUM__MUSICAL_INSTRUMENT_STORE__OTHER__PATRIMONY_TOURISM__PERFORMING_ARTS__RECORD_STORE__SCIENTIFIC_CULTURE__TRAVELING_CINEMA__VISUAL_ARTS",
        ),
    ),
    Fault(
        "deposit_source_unknown",
        "statuses",
        "an identity check the app does not have",
        ("applicative_database_deposit",),
        (
            f"update {DEPOSIT} set deposit_source = 'carrier_pigeon' where deposit_id = {_pick(DEPOSIT, 'deposit_id')}",
        ),
        ("accepted_values_mrt_global__deposit_deposit_source__educonnect__ubble__dms__jouve",),
    ),
    Fault(
        "offer_validation_unknown",
        "statuses",
        "an offer validation status the app does not have",
        ("applicative_database_offer",),
        (
            "update raw.applicative_database_offer set offer_validation = 'MAYBE' where offer_id = "
            + _pick("raw.applicative_database_offer", "offer_id"),
        ),
        ("accepted_values_export__offer_offer_validation__APPROVED__PENDING__REJECTED__DRAFT",),
    ),
    Fault(
        "offerer_validation_unknown",
        "statuses",
        "an offerer validation status the app does not have",
        ("applicative_database_offerer",),
        (
            "update raw.applicative_database_offerer set offerer_validation_status = 'MAYBE' "
            "where offerer_id = (select min(offerer_id) from raw.applicative_database_offerer)",
        ),
        (
            "accepted_values_export__offerer_offerer_validation_status__VALIDATED__NEW__PENDING__REJECTED__CLOSED",
        ),
    ),
    Fault(
        "collective_offer_format_unknown",
        "statuses",
        "a school offer format the app does not have",
        ("applicative_database_collective_offer",),
        ("update raw.applicative_database_collective_offer set collective_offer_format = 'Karaoke'",),
        (
            "accepted_values_mrt_global__collective_offer_collective_offer_format__Visite__Atelier_de_pratique__Repr_sentation__Rencontre__Concert__Conf_rence__Projection_audiovisuelle__Spectacle_vivant__Festival__Visite_guid_e__Parcours__Exposition",
        ),
    ),
    Fault(
        "collective_cancellation_reason_unknown",
        "statuses",
        "a school booking cancelled for a reason the app does not have",
        ("applicative_database_collective_booking",),
        (
            f"update {CBOOKING} set collective_booking_cancellation_reason = 'RAIN' "
            "where collective_booking_status = 'CANCELLED'",
        ),
        (
            "accepted_values_mrt_global__collective_booking_collective_booking_cancellation_reason__OFFERER__EXPIRED__BENEFICIARY__REFUSED_BY_INSTITUTE__FRAUD__BACKOFFICE",
        ),
    ),
    Fault(
        "institution_type_unknown",
        "statuses",
        "a school type the referential does not have",
        ("applicative_database_educational_institution",),
        ("update raw.applicative_database_educational_institution set institution_type = 'UNIVERSITE'",),
        (
            "accepted_values_mrt_global__educational_institution_institution_type__COLLEGE__LYCEE_GENERAL__LYCEE_PROFESSIONNEL__LYCEE_POLYVALENT__LYCEE_TECHNOLOGIQUE__EREA__CENTRE_DE_FORMATION__LYCEE_AGRICOLE",
        ),
    ),
    Fault(
        "events_unknown_platform_and_origin",
        "statuses",
        "a new app build sends platform 'windows' and origin 'widget'",
        ("firebase_events",),
        (f"update {EVENTS} set platform = 'windows', origin = 'widget' where event_date = current_date - 5",),
        ("accepted_values_int_firebase__session_platform__ios__android__web",),
    ),
    Fault(
        "events_booking_without_offer",
        "keys",
        "the app sends a booking confirmation without the offer it is about",
        ("firebase_events",),
        (
            f"update {EVENTS} set offer_id = null where rowid = (select rowid from {EVENTS} "
            "where event_name = 'BookingConfirmation' order by event_timestamp desc, session_id limit 1)",
        ),
        (
            "expression_is_true_mrt_native__event_event_name_not_in_ConsultOffer_HasAddedOfferToFavorites_BookingConfirmation_or_offer_id_is_not_null",
        ),
    ),
    Fault(
        "events_map_booking_without_consultation",
        "lifecycle",
        "a booking from the venue map in a session that consulted no offer from the map (a lost event)",
        ("firebase_events",),
        (
            f"insert into {EVENTS} select * replace ('BookingConfirmation' as event_name, "
            f"(select min(offer_id) from {EVENTS}) as offer_id) from {EVENTS} "
            "where event_name = 'ConsultVenueMap' and session_id not in "
            f"(select session_id from {EVENTS} where event_name = 'ConsultOffer' and origin = 'venueMap') "
            "order by event_timestamp desc, session_id limit 1",
        ),
        ("expression_is_true_mrt_native__daily_venue_map_conversion_total_bookings_total_consult_offer",),
    ),
    Fault(
        "pro_visit_without_page_view",
        "lifecycle",
        "the portal's page views of a visit are lost, its clicks kept",
        ("firebase_pro_events",),
        (
            "delete from raw.firebase_pro_events where event_name = 'page_view' and session_id = "
            "(select session_id from raw.firebase_pro_events where event_name <> 'page_view' "
            "order by event_timestamp desc, session_id limit 1)",
        ),
        ("expression_is_true_mrt_pro__visit_total_page_views_1",),
    ),
    Fault(
        "pro_log_offer_created_without_offer",
        "keys",
        "the backend logs an offer creation without the offer's id",
        ("pcapi_pro_log",),
        (
            "update raw.pcapi_pro_log set offer_id = null where log_id = (select log_id from raw.pcapi_pro_log "
            "where message = 'Offer has been created' order by log_timestamp desc, log_id limit 1)",
        ),
        ("expression_is_true_mrt_pro__log_message_Offer_has_been_created_or_offer_id_is_not_null",),
    ),
    Fault(
        "user_without_id",
        "keys",
        "a user row without an id",
        ("applicative_database_user",),
        (f"insert into {USER} select * replace (null as user_id) from {USER} order by user_id limit 1",),
        ("source_not_null_raw_applicative_database_user_user_id",),
        check="source_tests",
    ),
    Fault(
        "booking_without_user",
        "orphans",
        "a booking without a user",
        ("applicative_database_booking",),
        (_copy_booking(CANCELLED, user_id="null"),),
        ("not_null_mrt_global__booking_user_id",),
    ),
    Fault(
        "department_seed_duplicated",
        "keys",
        "a department listed twice in the seed file",
        ("seed_files.region_department",),
        (
            "insert into seed.region_department select * from seed.region_department order by department_code limit 1",
        ),
        ("source_unique_seed_files_region_department_department_code",),
        check="source_tests",
    ),
    Fault(
        "collective_reimbursed_without_date",
        "lifecycle",
        "a reimbursed school booking without a reimbursement date",
        ("applicative_database_collective_booking",),
        (
            f"update {CBOOKING} set collective_booking_reimbursement_date = null "
            "where collective_booking_status = 'REIMBURSED'",
        ),
        (
            "expression_is_true_mrt_global__collective_booking_collective_booking_reimbursement_date_is_not_null_or_collective_booking_status_REIMBURSED_",
        ),
    ),
    Fault(
        "collective_booking_without_status",
        "statuses",
        "a school booking without a status",
        ("applicative_database_collective_booking",),
        (_copy_collective(collective_booking_status="null"),),
        (
            "expression_is_true_mrt_global__educational_deposit_confirmed_collective_booking_count_cancelled_collective_booking_count_collective_booking_count",
        ),
    ),
    Fault(
        "collective_stock_limit_after_start",
        "lifecycle",
        "a school outing bookable until after it starts",
        ("applicative_database_collective_stock",),
        (
            "update raw.applicative_database_collective_stock set collective_stock_booking_limit_date = "
            "collective_stock_beginning_date + interval 2 day where collective_stock_id = "
            "(select max(collective_stock_id) from raw.applicative_database_collective_stock)",
        ),
        (
            "expression_is_true_mrt_global__collective_stock_collective_stock_booking_limit_date_is_null_or_collective_stock_beginning_date_is_null_or_collective_stock_booking_limit_date_collective_stock_beginning_date",
        ),
    ),
    Fault(
        "collective_stock_without_tickets",
        "amounts",
        "a school outing for 0 pupils",
        ("applicative_database_collective_stock",),
        (
            "update raw.applicative_database_collective_stock set collective_stock_number_of_tickets = 0 "
            "where collective_stock_id = (select max(collective_stock_id) from raw.applicative_database_collective_stock)",
        ),
        ("expression_is_true_mrt_global__collective_stock_collective_stock_number_of_tickets_0",),
    ),
    Fault(
        "deposit_expires_before_granted",
        "lifecycle",
        "a deposit that expires before it was granted",
        ("applicative_database_deposit",),
        (
            f"update {DEPOSIT} set deposit_expiration_date = deposit_creation_date - interval 1 day "
            f"where deposit_id = {_pick(DEPOSIT, 'deposit_id')}",
        ),
        (
            "expression_is_true_mrt_global__deposit_deposit_expiration_date_is_null_or_deposit_expiration_date_deposit_creation_date",
        ),
    ),
    Fault(
        "qpv_seed_duplicated",
        "keys",
        "a priority-neighbourhood code twice in the seed file",
        ("seed_files.qpv",),
        ("insert into seed.qpv select * from seed.qpv order by qpv_code limit 1",),
        ("source_unique_seed_files_qpv_qpv_code",),
        check="source_tests",
    ),
    Fault(
        "iris_seed_duplicated",
        "keys",
        "an IRIS twice in the IRIS reference file",
        ("seed_files.geo_iris",),
        ("insert into seed.geo_iris select * from seed.geo_iris order by iris_code limit 1",),
        ("source_unique_seed_files_geo_iris_iris_code",),
        check="source_tests",
    ),
    Fault(
        "address_duplicated",
        "keys",
        "an address row twice (a replayed import)",
        ("applicative_database_address",),
        (
            "insert into raw.applicative_database_address select * from raw.applicative_database_address "
            "order by address_id limit 1",
        ),
        ("source_unique_raw_applicative_database_address_address_id",),
        check="source_tests",
    ),
    Fault(
        "address_without_id",
        "keys",
        "an address with a null id",
        ("applicative_database_address",),
        (
            "insert into raw.applicative_database_address select * replace (null as address_id) "
            "from raw.applicative_database_address order by address_id limit 1",
        ),
        ("source_not_null_raw_applicative_database_address_address_id",),
        check="source_tests",
    ),
    Fault(
        "offerer_address_duplicated",
        "keys",
        "an offerer address row twice",
        ("applicative_database_offerer_address",),
        (
            "insert into raw.applicative_database_offerer_address select * from "
            "raw.applicative_database_offerer_address order by offerer_address_id limit 1",
        ),
        ("source_unique_raw_applicative_database_offerer_address_offerer_address_id",),
        check="source_tests",
    ),
    Fault(
        "offerer_address_without_id",
        "keys",
        "an offerer address with a null id",
        ("applicative_database_offerer_address",),
        (
            "insert into raw.applicative_database_offerer_address select * replace (null as offerer_address_id) "
            "from raw.applicative_database_offerer_address order by offerer_address_id limit 1",
        ),
        ("source_not_null_raw_applicative_database_offerer_address_offerer_address_id",),
        check="source_tests",
    ),
    Fault(
        "iris_census_seed_duplicated",
        "keys",
        "an IRIS twice in the neighbourhood statistics file",
        ("seed_files.iris_socio_demographics",),
        (
            "insert into seed.iris_socio_demographics select * from seed.iris_socio_demographics "
            "order by iris_code limit 1",
        ),
        ("source_unique_seed_files_iris_socio_demographics_iris_code",),
        check="source_tests",
    ),
    Fault(
        "zrr_seed_duplicated",
        "keys",
        "a rural-area commune twice in the seed file",
        ("seed_files.zrr",),
        ("insert into seed.zrr select * from seed.zrr order by commune_code limit 1",),
        ("source_unique_seed_files_zrr_commune_code",),
        check="source_tests",
    ),
    # ---- freshness (dbt source freshness: not a data test)
    Fault(
        "bookings_stop_arriving",
        "freshness",
        "the import stops copying new bookings (newest is 10 days old)",
        ("applicative_database_booking",),
        (f"delete from {BOOKING} where booking_creation_date > current_date - interval 10 day",),
        ("source:raw.applicative_database_booking",),
        check="freshness",
    ),
    Fault(
        "events_stop_arriving",
        "freshness",
        "the app's events stop landing (newest is 4 days old)",
        ("firebase_events",),
        (f"delete from {EVENTS} where event_timestamp > current_date - interval 4 day",),
        ("source:raw.firebase_events",),
        check="freshness",
    ),
    Fault(
        "users_stop_arriving",
        "freshness",
        "no new user for 8 days (sign-ups broken or not imported)",
        ("applicative_database_user",),
        (f"delete from {USER} where user_creation_date > current_date - interval 8 day",),
        ("source:raw.applicative_database_user",),
        check="freshness",
    ),
    # ---- volume and distribution
    Fault(
        "events_day_replayed",
        "volume",
        "yesterday's events loaded 6 times",
        ("firebase_events",),
        (
            f"insert into {EVENTS} select e.* from {EVENTS} as e, range(5) where e.event_date = current_date - 1",
        ),
        ("source_volume_anomaly_raw_firebase_events_event_date",),
        check="source_tests",
    ),
    Fault(
        "events_day_lost",
        "volume",
        "a day of events missing three days ago (the export of that day failed)",
        ("firebase_events",),
        (f"delete from {EVENTS} where event_date = current_date - 3",),
        ("source_volume_anomaly_raw_firebase_events_event_date",),
        check="source_tests",
    ),
    Fault(
        "events_lose_user_id",
        "volume",
        "yesterday's events lost their user id (an SDK update)",
        ("firebase_events",),
        (f"update {EVENTS} set user_id = null where event_date = current_date - 1",),
        ("source_null_share_anomaly_raw_firebase_events_user_id__event_date",),
        check="source_tests",
    ),
    Fault(
        "events_lose_offer_id",
        "volume",
        "two days ago, offer events lost their offer id",
        ("firebase_events",),
        (f"update {EVENTS} set offer_id = null where event_date = current_date - 2",),
        ("source_null_share_anomaly_raw_firebase_events_offer_id__event_date",),
        check="source_tests",
    ),
    Fault(
        "bookings_batch_replayed",
        "volume",
        "a batch of 40 bookings written again yesterday under new ids",
        ("applicative_database_booking",),
        (
            f"insert into {BOOKING} select * replace (booking_id + 800000 as booking_id, "
            "current_date - interval 1 day + interval 10 hour as booking_creation_date, "
            "current_date - interval 1 day + interval 11 hour as booking_cancellation_date) "
            f"from {BOOKING} where {CANCELLED} order by booking_id limit 40",
        ),
        ("source_volume_anomaly_raw_applicative_database_booking_booking_creation_date",),
        check="source_tests",
    ),
    Fault(
        "users_batch_replayed",
        "volume",
        "60 sign-ups written again yesterday under new ids",
        ("applicative_database_user",),
        (
            f"insert into {USER} select * replace (user_id + 800000 as user_id, "
            "current_date - interval 1 day + interval 9 hour as user_creation_date) "
            f"from {USER} order by user_id limit 60",
        ),
        ("source_volume_anomaly_raw_applicative_database_user_user_creation_date",),
        check="source_tests",
    ),
    # ---- reimbursements, tags, events, synchronisations, Adage (the app tables of the newer marts)
    Fault(
        "pricing_lines_do_not_add_up",
        "amounts",
        "a pricing whose offerer contribution line is 7 EUR off its amount",
        ("applicative_database_pricing_line",),
        (
            f"update {PRICING_LINE} set pricing_line_amount = pricing_line_amount + 700 "
            "where pricing_line_category = 'offerer contribution' and pricing_id = "
            f"{_pick(PRICING, 'pricing_id', 'pricing_amount < 0')}",
        ),
        (
            "expression_is_true_mrt_finance__booking_reimbursement_abs_offerer_revenue_offerer_contribution_reimbursed_amount_0_005",
        ),
    ),
    Fault(
        "pricing_at_the_wrong_rate",
        "amounts",
        "a venue under 20 000 EUR of revenue reimbursed at 80% (lines consistent with it)",
        ("applicative_database_pricing", "applicative_database_pricing_line"),
        (
            f"update {PRICING} set pricing_amount = cast(round(pricing_amount * 0.8) as bigint) "
            f"where pricing_id = {_pick(PRICING, 'pricing_id', FULL_RATE)}",
            f"update {PRICING_LINE} as l set pricing_line_amount = (select -r.pricing_line_amount + p.pricing_amount "
            f"from {PRICING_LINE} as r, {PRICING} as p where r.pricing_id = l.pricing_id "
            "and r.pricing_line_category = 'offerer revenue' and p.pricing_id = l.pricing_id) "
            f"where l.pricing_line_category = 'offerer contribution' and l.pricing_id = {_pick(PRICING, 'pricing_id', FULL_RATE)}",
        ),
        ("assert_reimbursement_follows_the_degressive_scale",),
    ),
    Fault(
        "pricing_paid_to_pass_culture",
        "amounts",
        "a pricing with its sign flipped (the venue would pay pass Culture)",
        ("applicative_database_pricing",),
        (
            f"update {PRICING} set pricing_amount = -pricing_amount "
            f"where pricing_id = {_pick(PRICING, 'pricing_id', 'pricing_amount < 0')}",
        ),
        (
            "expression_is_true_mrt_finance__booking_reimbursement_reimbursed_amount_is_null_or_reimbursed_amount_0",
            "expression_is_true_mrt_finance__booking_reimbursement_reimbursement_rate_is_null_or_reimbursement_rate_between_0_and_1",
        ),
    ),
    Fault(
        "pricing_of_two_bookings",
        "cross-entity",
        "a pricing that names both an individual and a school booking",
        ("applicative_database_pricing",),
        (
            f"update {PRICING} set collective_booking_id = (select min(collective_booking_id) from {CBOOKING}) "
            f"where pricing_id = {_pick(PRICING, 'pricing_id', 'booking_id is not null')}",
        ),
        (
            "expression_is_true_mrt_finance__booking_reimbursement__booking_id_is_null_collective_booking_id_is_null_",
        ),
    ),
    Fault(
        "pricing_paid_but_validated",
        "lifecycle",
        "an invoiced pricing set back to validated while its cashflow stays",
        ("applicative_database_pricing",),
        (
            f"update {PRICING} set pricing_status = 'validated' "
            f"where pricing_id = {_pick(PRICING, 'pricing_id', INVOICED)}",
        ),
        (
            "expression_is_true_mrt_finance__booking_reimbursement__cashflow_id_is_null_pricing_status_validated_",
        ),
    ),
    Fault(
        "fraud_tag_before_its_booking",
        "lifecycle",
        "a fraud flag dated the day before the booking it flags",
        ("applicative_database_fraudulent_booking_tag",),
        (
            "update raw.applicative_database_fraudulent_booking_tag as t set fraudulent_booking_tag_creation_date = "
            f"(select booking_creation_date - interval 1 day from {BOOKING} as b where b.booking_id = t.booking_id) "
            "where fraudulent_booking_tag_id = (select min(fraudulent_booking_tag_id) "
            "from raw.applicative_database_fraudulent_booking_tag)",
        ),
        (
            "expression_is_true_mrt_global__fraudulent_booking_tag_fraudulent_booking_tag_creation_date_is_null_or_"
            "fraudulent_booking_tag_creation_date_booking_created_at",
        ),
    ),
    Fault(
        "playlist_ends_before_it_starts",
        "lifecycle",
        "an offer playlist whose end is before its start",
        ("applicative_database_criterion",),
        (
            "update raw.applicative_database_criterion set criterion_ending_date = criterion_beginning_date "
            "- interval 1 day where criterion_id = (select min(criterion_id) from raw.applicative_database_offer_criterion)",
        ),
        (
            "expression_is_true_mrt_global__offer_criterion_criterion_ending_date_is_null_or_criterion_ending_date_"
            "criterion_beginning_date",
        ),
    ),
    Fault(
        "special_event_ends_before_it_starts",
        "lifecycle",
        "a special event whose last day is before its first",
        ("applicative_database_special_event",),
        (
            "update raw.applicative_database_special_event set special_event_end_date = special_event_date - 2 "
            "where special_event_id = (select min(special_event_id) from raw.applicative_database_special_event)",
        ),
        (
            "expression_is_true_mrt_global__special_event_special_event_end_date_is_null_or_special_event_end_date_special_event_date",
        ),
    ),
    Fault(
        "event_answer_before_the_call",
        "lifecycle",
        "an answer to a special event sent before the event was opened",
        ("applicative_database_special_event_response",),
        (
            "update raw.applicative_database_special_event_response as r set special_event_response_submitted_date = "
            "(select special_event_creation_date - interval 3 day from raw.applicative_database_special_event as e "
            "where e.special_event_id = r.special_event_id) where special_event_response_id = "
            "(select min(special_event_response_id) from raw.applicative_database_special_event_response)",
        ),
        (
            "expression_is_true_mrt_global__special_event_special_event_response_submitted_date_is_null_or_"
            "special_event_response_submitted_date_special_event_creation_date",
        ),
    ),
    Fault(
        "provider_synced_before_connection",
        "lifecycle",
        "a venue's catalogue synchronised five days before the venue was connected",
        ("applicative_database_venue_provider",),
        (
            "update raw.applicative_database_venue_provider set venue_provider_last_sync_date = "
            "venue_provider_creation_date - interval 5 day where venue_provider_id = "
            "(select min(venue_provider_id) from raw.applicative_database_venue_provider)",
        ),
        (
            "expression_is_true_mrt_global__venue_provider_venue_provider_last_sync_date_is_null_or_"
            "venue_provider_last_sync_date_venue_provider_creation_date",
        ),
    ),
    Fault(
        "adage_booking_without_its_booking",
        "cross-entity",
        "an Adage booking confirmation logged without the booking it made",
        ("adage_logs",),
        (
            "update raw.adage_logs set collective_booking_id = null where event_name = "
            "'BookingConfirmationButtonClick' and session_id = (select min(session_id) from raw.adage_logs "
            "where event_name = 'BookingConfirmationButtonClick')",
        ),
        (
            "expression_is_true_mrt_collective__adage_log_event_name_BookingConfirmationButtonClick_or_collective_booking_id_is_not_null",
        ),
    ),
)
