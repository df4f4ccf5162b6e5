"""The demo: a sample dealership, its users and a sample DMS export."""
