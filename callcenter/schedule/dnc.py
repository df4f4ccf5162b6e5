"""Who must not be called: the do-not-call list (免打扰) and numbers known to be wrong."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import Customer, DncEntry
from callcenter.phone import normalise_phone

_STORED_MOBILE = re.compile(r"1[3-9]\d{9}")


def phone_key(phone: str) -> str:
    """A number in the stored form, so "+86 138-0013-8000" equals "13800138000".

    Numbers that do not normalise (typed by hand into the DNC list) fall back to their digits.
    """
    phone = phone.strip()
    if _STORED_MOBILE.fullmatch(phone):  # what the importer stores; skip the parser
        return phone
    try:
        return normalise_phone(phone)
    except ValueError:
        return re.sub(r"\D", "", phone)


def dnc_phone_keys(session: Session, dealership_id: int) -> frozenset[str]:
    """The do-not-call list of a dealership as phone keys."""
    phones = session.scalars(select(DncEntry.phone).where(DncEntry.dealership_id == dealership_id))
    return frozenset(key for key in map(phone_key, phones) if key)


def is_dnc(session: Session, customer: Customer) -> bool:
    """True when the customer's number is on their dealership's do-not-call list."""
    key = phone_key(customer.phone or "")
    return bool(key) and key in dnc_phone_keys(session, customer.dealership_id)


def is_wrong_number(wrong_number_at: datetime | None, phone_verified_at: datetime | None) -> bool:
    """True when the number was logged as wrong and nothing has vouched for it since.

    The importer clears ``wrong_number_at`` when it stores a new number for the customer, and a
    call that reaches the right person sets ``phone_verified_at``; either ends the block.
    """
    if wrong_number_at is None:
        return False
    return phone_verified_at is None or phone_verified_at <= wrong_number_at


def blocked_customers(
    session: Session, dealership_id: int
) -> tuple[frozenset[int], frozenset[int]]:
    """Ids of a dealership's customers on the DNC list, and of those with a wrong number."""
    dnc_keys = dnc_phone_keys(session, dealership_id)
    query = select(
        Customer.id, Customer.phone, Customer.wrong_number_at, Customer.phone_verified_at
    ).where(Customer.dealership_id == dealership_id)
    if not dnc_keys:  # then only a logged wrong number can block a customer
        query = query.where(Customer.wrong_number_at.is_not(None))
    dnc: set[int] = set()
    wrong: set[int] = set()
    for customer_id, phone, wrong_at, verified_at in session.execute(query):
        if dnc_keys and phone_key(phone or "") in dnc_keys:
            dnc.add(customer_id)
        elif is_wrong_number(wrong_at, verified_at):
            wrong.add(customer_id)
    return frozenset(dnc), frozenset(wrong)
