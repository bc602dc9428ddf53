"""Data layer: ORM schema, health models (pure functions) and read queries. No web imports here."""
