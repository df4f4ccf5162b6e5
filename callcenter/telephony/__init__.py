"""Telephony: the SIP engine that places and records calls, and the customer simulator.

``callcenter.telephony.engine`` and ``simulator`` import pjsua2 (each process owns at most one
endpoint); the rest of the system talks to the engine through the database (``service``).
"""
