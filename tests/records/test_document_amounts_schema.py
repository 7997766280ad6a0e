"""Migration 0015 (document amounts) on SQLite and PostgreSQL: the column, its back-fill by the rule, its indexes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import inspect, text

from pipeline.amounts import document_amount
from records import EntityRow, migrate

#: title -> [(value, role)]: what each older document's amount entities are
DOCS = {
    "总价胜过更大的违约金": [("30000.00", "定金"), ("120000.00", "合同总价"), ("500000.00", "违约金")],
    "无总价取最大": [("1200.00", "单价"), ("8800.00", "运费")],
    "两个合计取较大": [("9000.00", "合计"), ("9500.00", "Total"), ("99999.00", "单价")],
    "不是数字的不算": [("abc", "合同总价"), ("1.2.3", "总价"), ("12.50", None)],
    "太大的不算": [("1000000000000000000.00", "总价"), ("77.00", "单价")],
    "没有金额": [],
}
EXPECTED = {
    "总价胜过更大的违约金": Decimal("120000.00"),
    "无总价取最大": Decimal("8800.00"),
    "两个合计取较大": Decimal("9500.00"),
    "不是数字的不算": Decimal("12.50"),
    "太大的不算": Decimal("77.00"),
    "没有金额": None,
}


def _older_home(engine) -> None:  # type: ignore[no-untyped-def]
    """A database at revision 0014 holding DOCS (and a contract-number entity on each, never an amount)."""
    from alembic import command

    from records._db import _alembic_config

    command.upgrade(_alembic_config(engine), "0014")
    with engine.begin() as conn:
        for title, amounts in DOCS.items():
            doc_id = conn.execute(
                text(
                    "INSERT INTO documents (title, doc_type, confidentiality, status, language, warnings,"
                    " created_at, updated_at, legal_hold) VALUES (:title, 'contract', 'internal', 'indexed', 'zh',"
                    " '[]', '2024-01-01', '2024-01-01', :no) RETURNING id"
                ),
                {"title": title, "no": False},
            ).scalar_one()
            for value, role in [*amounts, ("HT-0001", "合同编号")]:
                conn.execute(
                    text(
                        'INSERT INTO entities (document_id, kind, value, text, page, start, "end", valid, role)'
                        " VALUES (:d, :kind, :value, :value, 1, 0, 0, :yes, :role)"
                    ),
                    {
                        "d": doc_id,
                        "kind": "contract_no" if value == "HT-0001" else "amount",
                        "value": value,
                        "role": role,
                        "yes": True,
                    },
                )


def test_the_back_fill_stores_each_documents_amount_by_the_rule(records_engine):
    """Upgrading an older home fills ``documents.amount`` in SQL exactly as the extraction step's rule would."""
    _older_home(records_engine)
    migrate(records_engine)
    with records_engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT title, amount FROM documents")).all())
        rows = conn.execute(
            text(
                "SELECT d.title, e.kind, e.value, e.role FROM entities e JOIN documents d"
                " ON d.id = e.document_id"
            )
        ).all()
    found = {
        title: document_amount(
            EntityRow(kind=kind, value=value, role=role) for t, kind, value, role in rows if t == title
        )
        for title in DOCS
    }
    assert found == EXPECTED  # the rule itself
    assert {
        t: None if v is None else Decimal(str(v)).quantize(Decimal("0.01")) for t, v in stored.items()
    } == EXPECTED


def test_the_column_and_its_indexes_come_and_go(records_engine):
    """Head has the column and the start page's indexes; a downgrade to 0014 takes them away again."""
    from alembic import command

    from records._db import _alembic_config

    migrate(records_engine)
    columns = {c["name"] for c in inspect(records_engine).get_columns("documents")}
    indexes = {i["name"] for i in inspect(records_engine).get_indexes("documents")}
    assert "amount" in columns
    assert {"ix_documents_type_amount", "ix_documents_live_date", "ix_documents_updated_at"} <= indexes
    links = {i["name"] for i in inspect(records_engine).get_indexes("document_customers")}
    assert "ix_document_customers_document_method" in links
    assert "ix_pages_needs_ocr" in {i["name"] for i in inspect(records_engine).get_indexes("pages")}
    command.downgrade(_alembic_config(records_engine), "0014")
    inspector = inspect(records_engine)
    assert "amount" not in {c["name"] for c in inspector.get_columns("documents")}
    assert "ix_documents_type_amount" not in {i["name"] for i in inspector.get_indexes("documents")}
    migrate(records_engine)
    assert "amount" in {c["name"] for c in inspect(records_engine).get_columns("documents")}
