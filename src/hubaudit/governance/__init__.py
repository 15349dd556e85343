"""Governance: baselines the council approved, and the defects measured against them."""
