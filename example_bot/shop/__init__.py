"""Data layer of the VoltNest demo shop: SQLAlchemy models, catalog loading, queries and seeding."""
