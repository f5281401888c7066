"""Persistence for Reconnect: SQLAlchemy 2 models, the async engine, migrations and queries."""
