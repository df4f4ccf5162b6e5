"""Import of dealer management system (DMS) exports: customers, vehicles, service visits, sales."""

from callcenter.importer.fields import FIELD_ALIASES, MappingError
from callcenter.importer.reader import ImportFileError
from callcenter.importer.report import ImportReport, RowError
from callcenter.importer.run import import_file
from callcenter.importer.vin import check_digit, normalise_vin
from callcenter.phone import normalise_phone

__all__ = [
    "FIELD_ALIASES",
    "ImportFileError",
    "ImportReport",
    "MappingError",
    "RowError",
    "check_digit",
    "import_file",
    "normalise_phone",
    "normalise_vin",
]
