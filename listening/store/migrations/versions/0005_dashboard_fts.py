"""dashboard: full-text search over verbatims and the analysis_topics derived table

- ``analysis_topics``: one row per (latest analysis of a document, topic), with the
  document's brand and publication date copied in, kept in step by triggers on
  ``analyses`` (insert) and ``documents`` (brand / date update); rows go with
  their analysis or document (foreign keys ON DELETE CASCADE). The dashboard
  aggregates topic × sentiment on it without parsing JSON at read time.
- ``document_facts``: one narrow row per document (date, brand, source, language and the
  sentiment of its latest analysis), kept by triggers on ``documents`` and ``analyses``;
  the volume and sentiment charts scan its covering index instead of documents ⋈ analyses.
- ``daily_documents`` / ``daily_topics``: per UTC day counts (documents by source, brand,
  language and latest sentiment; topic mentions by brand, topic and topic sentiment),
  kept by triggers on ``document_facts`` / ``analysis_topics`` (+1 / -1 upserts). The
  charts read a few thousand rollup rows instead of scanning hundreds of thousands.
- Full-text search: SQLite FTS5 external-content table ``documents_fts`` (title,
  text; accents folded) kept by triggers; PostgreSQL a GIN index on
  ``to_tsvector('simple', coalesce(title, '') || ' ' || text)``.

Revision ID: 0005_dashboard
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dashboard"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_TOPICS_BODY = """
      DELETE FROM analysis_topics WHERE document_id = NEW.document_id;
      INSERT INTO analysis_topics (analysis_id, document_id, brand_id, published_at, topic, sentiment)
      SELECT NEW.id, NEW.document_id, d.brand_id, d.published_at,
             json_extract(j.value, '$.topic'), json_extract(j.value, '$.sentiment')
      FROM documents AS d,
           json_each(CASE WHEN json_valid(NEW.topics) AND json_type(NEW.topics) = 'array'
                          THEN NEW.topics ELSE '[]' END) AS j
      WHERE d.id = NEW.document_id AND j.type = 'object'
        AND json_type(j.value, '$.topic') = 'text';
"""

SQLITE_UP = [
    # topics of a new analysis replace those of older analyses of the same document
    f"CREATE TRIGGER trg_analysis_topics_ai AFTER INSERT ON analyses BEGIN {SQLITE_TOPICS_BODY} END",
    f"""
    CREATE TRIGGER trg_analysis_topics_au AFTER UPDATE OF topics ON analyses
    WHEN NEW.id = (SELECT max(id) FROM analyses WHERE document_id = NEW.document_id)
    BEGIN {SQLITE_TOPICS_BODY} END
    """,
    """
    CREATE TRIGGER trg_document_facts_di AFTER INSERT ON documents BEGIN
      INSERT INTO document_facts (document_id, published_at, brand_id, source_id, language)
      VALUES (NEW.id, NEW.published_at, NEW.brand_id, NEW.source_id, NEW.language);
    END
    """,
    """
    CREATE TRIGGER trg_document_facts_du
    AFTER UPDATE OF published_at, brand_id, source_id, language ON documents BEGIN
      UPDATE document_facts SET published_at = NEW.published_at, brand_id = NEW.brand_id,
             source_id = NEW.source_id, language = NEW.language
      WHERE document_id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER trg_document_facts_ai AFTER INSERT ON analyses BEGIN
      UPDATE document_facts
      SET analysis_id = NEW.id, sentiment = CASE WHEN NEW.error IS NULL THEN NEW.sentiment END
      WHERE document_id = NEW.document_id AND (analysis_id IS NULL OR analysis_id <= NEW.id);
    END
    """,
    """
    CREATE TRIGGER trg_document_facts_au AFTER UPDATE OF sentiment, error ON analyses BEGIN
      UPDATE document_facts SET sentiment = CASE WHEN NEW.error IS NULL THEN NEW.sentiment END
      WHERE document_id = NEW.document_id AND analysis_id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER trg_document_facts_ad AFTER DELETE ON analyses BEGIN
      UPDATE document_facts
      SET analysis_id = (SELECT max(a.id) FROM analyses AS a WHERE a.document_id = OLD.document_id),
          sentiment = (SELECT CASE WHEN a.error IS NULL THEN a.sentiment END FROM analyses AS a
                       WHERE a.document_id = OLD.document_id ORDER BY a.id DESC LIMIT 1)
      WHERE document_id = OLD.document_id AND analysis_id = OLD.id;
    END
    """,
    """
    CREATE TRIGGER trg_analysis_topics_du AFTER UPDATE OF brand_id, published_at ON documents BEGIN
      UPDATE analysis_topics SET brand_id = NEW.brand_id, published_at = NEW.published_at
      WHERE document_id = NEW.id;
    END
    """,
    """
    CREATE VIRTUAL TABLE documents_fts USING fts5(
      title, text, content='documents', content_rowid='id',
      tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER trg_documents_fts_ai AFTER INSERT ON documents BEGIN
      INSERT INTO documents_fts (rowid, title, text) VALUES (NEW.id, NEW.title, NEW.text);
    END
    """,
    """
    CREATE TRIGGER trg_documents_fts_ad AFTER DELETE ON documents BEGIN
      INSERT INTO documents_fts (documents_fts, rowid, title, text)
      VALUES ('delete', OLD.id, OLD.title, OLD.text);
    END
    """,
    """
    CREATE TRIGGER trg_documents_fts_au AFTER UPDATE OF title, text ON documents BEGIN
      INSERT INTO documents_fts (documents_fts, rowid, title, text)
      VALUES ('delete', OLD.id, OLD.title, OLD.text);
      INSERT INTO documents_fts (rowid, title, text) VALUES (NEW.id, NEW.title, NEW.text);
    END
    """,
    "INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')",
]

SQLITE_BACKFILL = """
    INSERT INTO analysis_topics (analysis_id, document_id, brand_id, published_at, topic, sentiment)
    SELECT a.id, a.document_id, d.brand_id, d.published_at,
           json_extract(j.value, '$.topic'), json_extract(j.value, '$.sentiment')
    FROM analyses AS a
    JOIN documents AS d ON d.id = a.document_id,
         json_each(CASE WHEN json_valid(a.topics) AND json_type(a.topics) = 'array'
                        THEN a.topics ELSE '[]' END) AS j
    WHERE a.id = (SELECT max(a2.id) FROM analyses AS a2 WHERE a2.document_id = a.document_id)
      AND j.type = 'object' AND json_type(j.value, '$.topic') = 'text'
"""

SQLITE_FACTS_BACKFILL = """
    INSERT INTO document_facts (document_id, published_at, brand_id, source_id, language,
                                analysis_id, sentiment)
    SELECT d.id, d.published_at, d.brand_id, d.source_id, d.language, a.id,
           CASE WHEN a.error IS NULL THEN a.sentiment END
    FROM documents AS d
    LEFT JOIN analyses AS a
      ON a.id = (SELECT max(a2.id) FROM analyses AS a2 WHERE a2.document_id = d.id)
"""

PG_FTS_EXPR = "to_tsvector('simple', coalesce(title, '') || ' ' || text)"

PG_UP = [
    """
    CREATE FUNCTION analysis_topics_from_analysis() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id < (SELECT max(id) FROM analyses WHERE document_id = NEW.document_id) THEN
        RETURN NEW;
      END IF;
      DELETE FROM analysis_topics WHERE document_id = NEW.document_id;
      INSERT INTO analysis_topics (analysis_id, document_id, brand_id, published_at, topic, sentiment)
      SELECT NEW.id, NEW.document_id, d.brand_id, d.published_at, e->>'topic', e->>'sentiment'
      FROM documents AS d,
           json_array_elements(CASE WHEN json_typeof(NEW.topics) = 'array'
                                    THEN NEW.topics ELSE '[]'::json END) AS e
      WHERE d.id = NEW.document_id AND json_typeof(e) = 'object'
        AND json_typeof(e->'topic') = 'string';
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER trg_analysis_topics_ai AFTER INSERT ON analyses
    FOR EACH ROW EXECUTE FUNCTION analysis_topics_from_analysis()
    """,
    """
    CREATE TRIGGER trg_analysis_topics_au AFTER UPDATE OF topics ON analyses
    FOR EACH ROW EXECUTE FUNCTION analysis_topics_from_analysis()
    """,
    """
    CREATE FUNCTION document_facts_from_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO document_facts (document_id, published_at, brand_id, source_id, language)
        VALUES (NEW.id, NEW.published_at, NEW.brand_id, NEW.source_id, NEW.language);
      ELSE
        UPDATE document_facts SET published_at = NEW.published_at, brand_id = NEW.brand_id,
               source_id = NEW.source_id, language = NEW.language
        WHERE document_id = NEW.id;
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER trg_document_facts_di AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION document_facts_from_document()
    """,
    """
    CREATE TRIGGER trg_document_facts_du
    AFTER UPDATE OF published_at, brand_id, source_id, language ON documents
    FOR EACH ROW EXECUTE FUNCTION document_facts_from_document()
    """,
    """
    CREATE FUNCTION document_facts_from_analysis() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        UPDATE document_facts
        SET analysis_id = (SELECT max(a.id) FROM analyses AS a WHERE a.document_id = OLD.document_id),
            sentiment = (SELECT CASE WHEN a.error IS NULL THEN a.sentiment END FROM analyses AS a
                         WHERE a.document_id = OLD.document_id ORDER BY a.id DESC LIMIT 1)
        WHERE document_id = OLD.document_id AND analysis_id = OLD.id;
        RETURN OLD;
      END IF;
      UPDATE document_facts
      SET analysis_id = NEW.id, sentiment = CASE WHEN NEW.error IS NULL THEN NEW.sentiment END
      WHERE document_id = NEW.document_id AND (analysis_id IS NULL OR analysis_id <= NEW.id);
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER trg_document_facts_ai AFTER INSERT OR DELETE OR UPDATE OF sentiment, error
    ON analyses FOR EACH ROW EXECUTE FUNCTION document_facts_from_analysis()
    """,
    """
    CREATE FUNCTION analysis_topics_from_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE analysis_topics SET brand_id = NEW.brand_id, published_at = NEW.published_at
      WHERE document_id = NEW.id;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER trg_analysis_topics_du AFTER UPDATE OF brand_id, published_at ON documents
    FOR EACH ROW EXECUTE FUNCTION analysis_topics_from_document()
    """,
    f"CREATE INDEX ix_documents_fts ON documents USING gin ({PG_FTS_EXPR})",
]

PG_FACTS_BACKFILL = """
    INSERT INTO document_facts (document_id, published_at, brand_id, source_id, language,
                                analysis_id, sentiment)
    SELECT d.id, d.published_at, d.brand_id, d.source_id, d.language, a.id,
           CASE WHEN a.error IS NULL THEN a.sentiment END
    FROM documents AS d
    LEFT JOIN (SELECT DISTINCT ON (document_id) id, document_id, sentiment, error
               FROM analyses ORDER BY document_id, id DESC) AS a ON a.document_id = d.id
"""

PG_BACKFILL = """
    INSERT INTO analysis_topics (analysis_id, document_id, brand_id, published_at, topic, sentiment)
    SELECT a.id, a.document_id, d.brand_id, d.published_at, e->>'topic', e->>'sentiment'
    FROM (SELECT DISTINCT ON (document_id) * FROM analyses ORDER BY document_id, id DESC) AS a
    JOIN documents AS d ON d.id = a.document_id,
         json_array_elements(CASE WHEN json_typeof(a.topics) = 'array'
                                  THEN a.topics ELSE '[]'::json END) AS e
    WHERE json_typeof(e) = 'object' AND json_typeof(e->'topic') = 'string'
"""

# ----------------------------------------------------------------- daily rollups
# keys are NOT NULL so the upsert's conflict target works: no brand = 0, unknown = ''
SQLITE_DAY = "date({col})"
PG_DAY = "(({col}) AT TIME ZONE 'UTC')::date"


def _rollup_sql(dialect: str, day: str | None = None) -> dict[str, str]:
    """The rollup statements; ``day`` (with ``{col}``) is the day of a timestamp (UTC here;
    revision 0026 passes the store time zone's day)."""
    day = day or (SQLITE_DAY if dialect == "sqlite" else PG_DAY)
    return {
        "doc_minus": (
            "UPDATE daily_documents SET n = n - 1 WHERE day = " + day.format(col="OLD.published_at")
            + " AND source_id = OLD.source_id AND brand_id = coalesce(OLD.brand_id, 0)"
            " AND language = coalesce(OLD.language, '') AND sentiment = coalesce(OLD.sentiment, '')"
        ),
        "doc_plus": (
            "INSERT INTO daily_documents (day, source_id, brand_id, language, sentiment, n) "
            "SELECT " + day.format(col="NEW.published_at") + ", NEW.source_id, "
            "coalesce(NEW.brand_id, 0), coalesce(NEW.language, ''), coalesce(NEW.sentiment, ''), 1 "
            "WHERE NEW.published_at IS NOT NULL "
            "ON CONFLICT (day, source_id, brand_id, language, sentiment) "
            "DO UPDATE SET n = daily_documents.n + 1"
        ),
        "topic_minus": (
            "UPDATE daily_topics SET n = n - 1 WHERE day = " + day.format(col="OLD.published_at")
            + " AND brand_id = coalesce(OLD.brand_id, 0) AND topic = OLD.topic"
            " AND sentiment = coalesce(OLD.sentiment, '')"
        ),
        "topic_plus": (
            "INSERT INTO daily_topics (day, brand_id, topic, sentiment, n) "
            "SELECT " + day.format(col="NEW.published_at") + ", coalesce(NEW.brand_id, 0), "
            "NEW.topic, coalesce(NEW.sentiment, ''), 1 WHERE NEW.published_at IS NOT NULL "
            "ON CONFLICT (day, brand_id, topic, sentiment) DO UPDATE SET n = daily_topics.n + 1"
        ),
        "doc_backfill": (
            "INSERT INTO daily_documents (day, source_id, brand_id, language, sentiment, n) "
            "SELECT " + day.format(col="published_at") + ", source_id, coalesce(brand_id, 0), "
            "coalesce(language, ''), coalesce(sentiment, ''), count(*) FROM document_facts "
            "WHERE published_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
        ),
        "topic_backfill": (
            "INSERT INTO daily_topics (day, brand_id, topic, sentiment, n) "
            "SELECT " + day.format(col="published_at") + ", coalesce(brand_id, 0), topic, "
            "coalesce(sentiment, ''), count(*) FROM analysis_topics "
            "WHERE published_at IS NOT NULL GROUP BY 1, 2, 3, 4"
        ),
    }


def rollup_triggers(dialect: str, day: str | None = None) -> list[str]:
    """Triggers keeping the daily rollups in step with document_facts and analysis_topics."""
    q = _rollup_sql(dialect, day)
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER trg_daily_documents_i AFTER INSERT ON document_facts BEGIN "
            f"{q['doc_plus']}; END",
            f"CREATE TRIGGER trg_daily_documents_d AFTER DELETE ON document_facts BEGIN "
            f"{q['doc_minus']}; END",
            f"CREATE TRIGGER trg_daily_documents_u AFTER UPDATE ON document_facts BEGIN "
            f"{q['doc_minus']}; {q['doc_plus']}; END",
            f"CREATE TRIGGER trg_daily_topics_i AFTER INSERT ON analysis_topics BEGIN "
            f"{q['topic_plus']}; END",
            f"CREATE TRIGGER trg_daily_topics_d AFTER DELETE ON analysis_topics BEGIN "
            f"{q['topic_minus']}; END",
            f"CREATE TRIGGER trg_daily_topics_u AFTER UPDATE ON analysis_topics BEGIN "
            f"{q['topic_minus']}; {q['topic_plus']}; END",
        ]
    statements = []
    for table, name, minus, plus in (("document_facts", "daily_documents", q["doc_minus"], q["doc_plus"]),
                                     ("analysis_topics", "daily_topics", q["topic_minus"], q["topic_plus"])):
        statements += [
            f"""
            CREATE FUNCTION {name}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN {minus}; END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN {plus}; END IF;
              RETURN NULL;
            END $$
            """,
            f"CREATE TRIGGER trg_{name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_sync()",
        ]
    return statements


def rollup_backfill(dialect: str, day: str | None = None) -> list[str]:
    q = _rollup_sql(dialect, day)
    return [q["doc_backfill"], q["topic_backfill"]]


def _create_rollup_tables() -> None:
    op.create_table(
        "daily_documents",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "source_id", "brand_id", "language", "sentiment",
                                name=op.f("pk_daily_documents")),
    )
    op.create_table(
        "daily_topics",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "brand_id", "topic", "sentiment", name=op.f("pk_daily_topics")),
    )



def upgrade() -> None:
    op.create_table(
        "analysis_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], ondelete="CASCADE",
            name=op.f("fk_analysis_topics_analysis_id_analyses"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], ondelete="CASCADE",
            name=op.f("fk_analysis_topics_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_topics")),
    )
    op.create_table(
        "document_facts",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("analysis_id", sa.Integer(), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], ondelete="CASCADE",
            name=op.f("fk_document_facts_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_facts")),
    )
    op.create_index(
        "ix_document_facts_published", "document_facts",
        ["published_at", "brand_id", "source_id", "language", "sentiment"],
    )
    op.create_index("ix_analysis_topics_document_id", "analysis_topics", ["document_id"])
    op.create_index("ix_analysis_topics_analysis_id", "analysis_topics", ["analysis_id"])
    op.create_index(
        "ix_analysis_topics_published", "analysis_topics",
        ["published_at", "brand_id", "topic", "sentiment", "document_id"],
    )
    op.create_index(
        "ix_analysis_topics_brand_published",
        "analysis_topics",
        ["brand_id", "published_at", "topic", "sentiment"],
    )
    op.create_index("ix_analyses_document_id_id", "analyses", ["document_id", "id"])
    op.create_index("ix_documents_thread_id", "documents", ["thread_id"])
    _create_rollup_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        op.execute(SQLITE_BACKFILL)
        op.execute(SQLITE_FACTS_BACKFILL)
    elif dialect == "postgresql":
        for statement in PG_UP:
            op.execute(statement)
        op.execute(PG_BACKFILL)
        op.execute(PG_FACTS_BACKFILL)
    if dialect in ("sqlite", "postgresql"):
        for statement in rollup_backfill(dialect) + rollup_triggers(dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("trg_documents_fts_au", "trg_documents_fts_ad", "trg_documents_fts_ai",
                     "trg_analysis_topics_du", "trg_analysis_topics_au", "trg_analysis_topics_ai",
                     "trg_document_facts_di", "trg_document_facts_du", "trg_document_facts_ai",
                     "trg_document_facts_au", "trg_document_facts_ad",
                     "trg_daily_documents_i", "trg_daily_documents_d", "trg_daily_documents_u",
                     "trg_daily_topics_i", "trg_daily_topics_d", "trg_daily_topics_u"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_documents_fts")
        op.execute("DROP TRIGGER IF EXISTS trg_analysis_topics_du ON documents")
        op.execute("DROP TRIGGER IF EXISTS trg_analysis_topics_ai ON analyses")
        op.execute("DROP TRIGGER IF EXISTS trg_analysis_topics_au ON analyses")
        op.execute("DROP TRIGGER IF EXISTS trg_document_facts_ai ON analyses")
        op.execute("DROP TRIGGER IF EXISTS trg_document_facts_di ON documents")
        op.execute("DROP TRIGGER IF EXISTS trg_document_facts_du ON documents")
        op.execute("DROP FUNCTION IF EXISTS document_facts_from_analysis()")
        for name, table in (("daily_documents", "document_facts"), ("daily_topics", "analysis_topics")):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}_sync()")
        op.execute("DROP FUNCTION IF EXISTS document_facts_from_document()")
        op.execute("DROP FUNCTION IF EXISTS analysis_topics_from_document()")
        op.execute("DROP FUNCTION IF EXISTS analysis_topics_from_analysis()")
    op.drop_index("ix_documents_thread_id", table_name="documents")
    op.drop_index("ix_analyses_document_id_id", table_name="analyses")
    op.drop_table("daily_topics")
    op.drop_table("daily_documents")
    op.drop_table("analysis_topics")
    op.drop_table("document_facts")
