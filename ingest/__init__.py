"""Ingest: roster, hospital files, device gateway and the synthetic demo force."""
