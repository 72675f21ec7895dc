"""Applying the Alembic migrations from code (the CLI, ``serve`` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bookwithme.paths import ALEMBIC_INI, MIGRATIONS_DIR


def alembic_config(database_url: str, *, configure_logging: bool = True) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = configure_logging
    return config


def upgrade(database_url: str, *, configure_logging: bool = True) -> None:
    command.upgrade(alembic_config(database_url, configure_logging=configure_logging), "head")
