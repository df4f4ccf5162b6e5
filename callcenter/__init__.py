"""4S店客服回访中心 (after-sales callback centre of a car dealership)."""

__version__ = "0.1.0"
