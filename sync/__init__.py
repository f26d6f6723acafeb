"""Replica of Dotloop data in Postgres and the reporting built on it."""
