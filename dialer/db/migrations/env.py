"""Alembic environment: migrations run on the connection or URL that dialer.db.migrate passes."""

from __future__ import annotations

import warnings

from alembic import context

from dialer.db.base import load_all_models, make_engine

target_metadata = load_all_models()
config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run_on(conn)
    engine.dispose()


# Alembic cannot reflect expression indexes (``priority DESC``), so comparing them would
# always report a difference; tests/dialer/db checks that they exist instead.
EXPRESSION_INDEXES = frozenset(
    {"ix_leads_due", "ix_leads_due_retries_first", "ix_leads_due_fresh_first"}
)
for _index in EXPRESSION_INDEXES:
    # SQLAlchemy and Alembic warn that they skip these; that is known and checked above.
    warnings.filterwarnings("ignore", message=f".*expression-based index '?{_index}'?( |;|$)")


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _run_on(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
