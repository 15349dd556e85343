"""Persistence: SQLAlchemy tables, engine helpers and the repository that returns model values."""
