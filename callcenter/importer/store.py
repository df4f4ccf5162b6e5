"""Idempotent upsert of checked rows.

Existing rows the file's keys can match are loaded once; every row is then matched in memory.
Changes to existing rows go through the ORM; new rows are collected as ``Pending`` records and
inserted in bulk at the end, parents first, so 10,000 rows cost a few statements, not 40,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from callcenter.importer.report import RowError, empty_counts
from callcenter.importer.rows import ParsedRow, SaleValues, VisitValues
from callcenter.models import Customer, Sale, ServiceVisit, Vehicle

CHUNK = 500  # keys per IN (...) query; SQLite allows far more, this keeps statements small
INSERT_BATCH = 1000  # rows per bulk INSERT
K = TypeVar("K")


class Pending:
    """A row to insert: attributes are its column values, ``id`` is known once it is inserted.

    ``customer`` and ``vehicle`` hold the parent (loaded or pending) until the insert.
    """

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
        self.id: int | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __getattr__(self, name: str) -> Any:
        # a column the row never set reads as empty, like a new ORM object
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def insert_values(self, columns: tuple[str, ...]) -> dict[str, Any]:
        """The row to insert: ``columns`` and the ids of the parents it names."""
        values = {name: getattr(self, name) for name in columns}
        for parent in ("customer", "vehicle"):
            if parent in self.__dict__:
                values[f"{parent}_id"] = self.__dict__[parent].id
        return values


# columns a new row gets from the file (the rest take their defaults)
INSERT_COLUMNS: dict[type[Any], tuple[str, ...]] = {
    Customer: ("dealership_id", "dms_customer_id", "name", "phone"),
    Vehicle: ("vin", "plate", "model", "purchase_date", "delivery_date", "mileage_km"),
    ServiceVisit: (
        "repair_order_no",
        "kind",
        "service_advisor",
        "delivered_at",
        "amount_yuan",
        "mileage_km",
    ),
    Sale: ("order_no", "sales_consultant", "delivered_at"),
}


CustomerRef = Customer | Pending
VehicleRef = Vehicle | Pending


def _chunks(values: Iterable[K], size: int = CHUNK) -> Iterator[list[K]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _update(obj: Any, values: dict[str, Any]) -> bool:
    """Set the non-empty ``values`` that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if value is not None and getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class Tally:
    """Created/updated/unchanged per entity, each entity counted once however many rows name it."""

    def __init__(self) -> None:
        self.outcomes: dict[tuple[str, object], str] = {}

    def touch(self, entity: str, key: object, *, created: bool = False, changed: bool) -> None:
        """Record that a row created, changed or merely confirmed the entity with ``key``."""
        previous = self.outcomes.get((entity, key))
        if previous is None:
            outcome = "created" if created else "updated" if changed else "unchanged"
            self.outcomes[(entity, key)] = outcome
        elif previous == "unchanged" and changed:
            self.outcomes[(entity, key)] = "updated"

    def counts(self) -> dict[str, dict[str, int]]:
        """The per-entity counts for the report."""
        counts = empty_counts()
        for (entity, _key), outcome in self.outcomes.items():
            counts[entity][outcome] += 1
        return counts


class Upserter:
    """Writes rows into one dealership's customers, vehicles, service visits and sales."""

    def __init__(self, session: Session, dealership_id: int) -> None:
        self.session = session
        self.dealership_id = dealership_id
        self.tally = Tally()
        self.customers_by_dms: dict[str, CustomerRef] = {}
        self.customers_by_id: dict[int, Customer] = {}
        self.vehicles: dict[str, VehicleRef] = {}  # VIN → vehicle
        self.owners: dict[str, CustomerRef] = {}  # VIN → the vehicle's customer
        self.visits: dict[str, ServiceVisit | Pending] = {}  # repair-order number → visit
        self.sales: dict[str, Sale | Pending] = {}  # VIN → sale
        self.new: dict[type[Any], list[Pending]] = {model: [] for model in INSERT_COLUMNS}
        # loaded rows that must point at a parent that is not inserted yet: (row, fk) → parent
        self.deferred: dict[tuple[int, str], tuple[Any, str, Pending]] = {}

    def preload(self, rows: list[ParsedRow]) -> None:
        """Load every existing row the file's keys can match, in a few IN (...) queries."""
        session = self.session
        loaded: dict[str, Vehicle] = {}
        for vins in _chunks({row.vin for row in rows}):
            for vehicle in session.scalars(select(Vehicle).where(Vehicle.vin.in_(vins))):
                loaded[vehicle.vin] = vehicle
        self.vehicles.update(loaded)
        orders = {row.visit.repair_order_no for row in rows if row.visit is not None}
        for chunk in _chunks(orders):
            visits = select(ServiceVisit).where(ServiceVisit.repair_order_no.in_(chunk))
            for visit in session.scalars(visits):
                self.visits[visit.repair_order_no] = visit
        customer_ids = {v.customer_id for v in loaded.values()}
        customer_ids |= {v.customer_id for v in self.visits.values()}
        for ids in _chunks(customer_ids):
            for customer in session.scalars(select(Customer).where(Customer.id.in_(ids))):
                self.customers_by_id[customer.id] = customer
        dms_ids = {row.dms_customer_id for row in rows if row.dms_customer_id}
        for chunk in _chunks(dms_ids):
            customers = select(Customer).where(
                Customer.dealership_id == self.dealership_id,
                Customer.dms_customer_id.in_(chunk),
            )
            for customer in session.scalars(customers):
                self.customers_by_id[customer.id] = customer
        for customer in self.customers_by_id.values():
            if customer.dealership_id == self.dealership_id and customer.dms_customer_id:
                self.customers_by_dms[customer.dms_customer_id] = customer
        for vin, vehicle in loaded.items():
            self.owners[vin] = self.customers_by_id[vehicle.customer_id]
        by_vehicle_id = {vehicle.id: vin for vin, vehicle in loaded.items()}
        for ids in _chunks(by_vehicle_id):
            for sale in session.scalars(select(Sale).where(Sale.vehicle_id.in_(ids))):
                self.sales[by_vehicle_id[sale.vehicle_id]] = sale

    def counts(self) -> dict[str, dict[str, int]]:
        """Created/updated/unchanged per entity so far."""
        return self.tally.counts()

    def apply(self, row: ParsedRow, labels: dict[str, str]) -> list[RowError]:
        """Match one row; rows whose keys belong to another dealership are refused with errors."""
        conflicts = self._conflicts(row, labels)
        if conflicts:
            return conflicts
        customer = self._customer(row)
        vehicle = self._vehicle(row, customer)
        if row.visit is not None:
            self._visit(row.visit, customer, vehicle)
        if row.sale is not None:
            self._sale(row.sale, row.vin, customer, vehicle)
        return []

    def finish(self) -> None:
        """Insert the new rows, parents first, and point loaded rows at their new parents."""
        self._insert(Customer)
        self._resolve_deferred("customer_id")
        self._insert(Vehicle)
        self._resolve_deferred("vehicle_id")
        self._insert(ServiceVisit)
        self._insert(Sale)

    def _insert(self, model: type[Any]) -> None:
        columns = INSERT_COLUMNS[model]
        for batch in _chunks(self.new[model], INSERT_BATCH):
            statement = insert(model).returning(model.id, sort_by_parameter_order=True)
            ids = self.session.scalars(statement, [p.insert_values(columns) for p in batch]).all()
            for pending, new_id in zip(batch, ids, strict=True):
                pending.id = new_id

    def _resolve_deferred(self, fk: str) -> None:
        for key, (record, name, parent) in list(self.deferred.items()):
            if name == fk:
                setattr(record, fk, parent.id)
                del self.deferred[key]

    def _conflicts(self, row: ParsedRow, labels: dict[str, str]) -> list[RowError]:
        # VINs and repair-order numbers are unique across the database, so a key already used
        # by another dealership cannot be taken over silently
        errors = []
        owner = self.owners.get(row.vin)
        if owner is not None and owner.dealership_id != self.dealership_id:
            reason = "该车架号已登记在其他经销店名下"
            errors.append(RowError(row.row, labels["vin"], row.vin, reason))
        visit = None if row.visit is None else self.visits.get(row.visit.repair_order_no)
        if isinstance(visit, ServiceVisit):
            visit_owner = self.customers_by_id.get(visit.customer_id)
            if visit_owner is not None and visit_owner.dealership_id != self.dealership_id:
                reason = "该工单号已被其他经销店使用"
                errors.append(
                    RowError(row.row, labels["repair_order_no"], visit.repair_order_no, reason)
                )
        return errors

    def _customer(self, row: ParsedRow) -> CustomerRef:
        """Key: the DMS customer number, else the vehicle's current owner, else a new customer."""
        customer: CustomerRef | None = None
        owner = self.owners.get(row.vin)
        if row.dms_customer_id:
            customer = self.customers_by_dms.get(row.dms_customer_id)
            if customer is None and owner is not None and owner.dms_customer_id is None:
                # the owner came from an export without customer numbers: same person, adopt it
                customer = owner
                customer.dms_customer_id = row.dms_customer_id
                self.customers_by_dms[row.dms_customer_id] = customer
                self.tally.touch("customer", id(customer), changed=True)
        elif owner is not None:
            customer = owner
        if customer is None:
            customer = Pending(
                dealership_id=self.dealership_id,
                dms_customer_id=row.dms_customer_id,
                name=row.name,
                phone=row.phone,
            )
            self.new[Customer].append(customer)
            if row.dms_customer_id:
                self.customers_by_dms[row.dms_customer_id] = customer
            self.tally.touch("customer", id(customer), created=True, changed=True)
            return customer
        changed = _update(customer, {"name": row.name})
        if customer.phone != row.phone:
            customer.phone = row.phone
            # what calls proved about the old number says nothing about the new one
            customer.phone_verified_at = None
            customer.wrong_number_at = None
            changed = True
        self.tally.touch("customer", id(customer), changed=changed)
        return customer

    def _vehicle(self, row: ParsedRow, customer: CustomerRef) -> VehicleRef:
        values = {
            "plate": row.plate,
            "model": row.model,
            "purchase_date": row.purchase_date,
            "delivery_date": row.delivery_date,
        }
        vehicle = self.vehicles.get(row.vin)
        if vehicle is None:
            vehicle = Pending(vin=row.vin, customer=customer, mileage_km=row.mileage_km, **values)
            self.new[Vehicle].append(vehicle)
            self.vehicles[row.vin] = vehicle
            self.owners[row.vin] = customer
            self.tally.touch("vehicle", row.vin, created=True, changed=True)
            return vehicle
        changed = _update(vehicle, values)
        if self.owners[row.vin] is not customer:
            self._link(vehicle, "customer", customer)
            self.owners[row.vin] = customer
            changed = True
        # rows need not be in date order: the odometer only moves forward
        if row.mileage_km is not None and (vehicle.mileage_km or 0) < row.mileage_km:
            vehicle.mileage_km = row.mileage_km
            changed = True
        self.tally.touch("vehicle", row.vin, changed=changed)
        return vehicle

    def _visit(self, values: VisitValues, customer: CustomerRef, vehicle: VehicleRef) -> None:
        order_no = values.repair_order_no
        fields = {
            "kind": values.kind.value,
            "service_advisor": values.service_advisor,
            "delivered_at": values.delivered_at,
            "amount_yuan": values.amount_yuan,
            "mileage_km": values.mileage_km,
        }
        visit = self.visits.get(order_no)
        if visit is None:
            visit = Pending(repair_order_no=order_no, customer=customer, vehicle=vehicle, **fields)
            self.new[ServiceVisit].append(visit)
            self.visits[order_no] = visit
            self.tally.touch("service_visit", order_no, created=True, changed=True)
            return
        changed = _update(visit, fields)
        changed |= self._link(visit, "customer", customer)
        changed |= self._link(visit, "vehicle", vehicle)
        self.tally.touch("service_visit", order_no, changed=changed)

    def _sale(
        self, values: SaleValues, vin: str, customer: CustomerRef, vehicle: VehicleRef
    ) -> None:
        fields = {
            "delivered_at": values.delivered_at,
            "sales_consultant": values.sales_consultant,
            "order_no": values.order_no,
        }
        sale = self.sales.get(vin)
        if sale is None:
            sale = Pending(customer=customer, vehicle=vehicle, **fields)
            self.new[Sale].append(sale)
            self.sales[vin] = sale
            self.tally.touch("sale", vin, created=True, changed=True)
            return
        changed = _update(sale, fields)
        changed |= self._link(sale, "customer", customer)
        self.tally.touch("sale", vin, changed=changed)

    def _link(self, record: Any, parent: str, target: CustomerRef | VehicleRef) -> bool:
        """Point ``record`` at ``target`` as its ``parent`` (customer/vehicle); True if moved."""
        if isinstance(record, Pending):
            if record.__dict__.get(parent) is target:
                return False
            setattr(record, parent, target)
            return True
        fk = f"{parent}_id"
        key = (id(record), fk)
        if isinstance(target, Pending):
            # a loaded row moving to a new parent: its id is known once the parent is inserted
            earlier = self.deferred.get(key)
            if earlier is not None and earlier[2] is target:
                return False
            self.deferred[key] = (record, fk, target)
            return True
        self.deferred.pop(key, None)
        if getattr(record, fk) == target.id:
            return False
        setattr(record, fk, target.id)
        return True
