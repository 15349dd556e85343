"""hubaudit: HubSpot configuration drift and governance auditor."""

__version__ = "0.1.0"
