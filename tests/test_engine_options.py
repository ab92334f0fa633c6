"""The planner settings every PostgreSQL connection of the application starts with
(`config.engine_options`): no JIT, and parallel workers' rows priced for the roll-up."""
import pytest
from sqlalchemy import create_engine

from tracker.config import TestConfig, engine_options

pytestmark = pytest.mark.skipif(
    not TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"),
    reason="PostgreSQL only: the settings are PostgreSQL's planner's")


def test_a_connection_starts_without_jit_and_with_cheap_parallel_rows():
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    engine = create_engine(url, **engine_options(url))
    try:
        with engine.connect() as connection:
            show = lambda name: connection.exec_driver_sql(f"SHOW {name}").scalar()  # noqa: E731
            assert show("jit") == "off"
            assert float(show("parallel_tuple_cost")) == 0.01
    finally:
        engine.dispose()
