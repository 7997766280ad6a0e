"""Customer names in traditional characters link, filter and suggest like their simplified spelling,
and a registry holding both spellings keeps both customers apart."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dossier.app import folder, registry, suggest
from index import Principal
from ingest import Registry, RegistryEntry, extract_entities, normalize_name
from pipeline.extraction import name_key
from records import Customer, migrate

ADMIN = Principal(username="admin", role="admin")


def _csv(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("客户名称,简称\n" + "".join(f"{n},{n[:4]}\n" for n in names), encoding="utf-8")
    return path


def test_a_traditional_spelling_links_to_the_simplified_customer():
    """光華物流有限公司 in a document links to the registered 光华物流有限公司, by full name and by short name."""
    linker = Registry(
        [RegistryEntry(1, "光华物流有限公司", ("光华物流",)), RegistryEntry(2, "苏州澜海物流有限责任公司")]
    )
    assert normalize_name("光華物流有限公司") == normalize_name("光华物流有限公司")
    for text, method, cid in (
        ("本合同由光華物流有限公司簽署。", "name", 1),
        ("甲方：蘇州瀾海物流有限責任公司", "name", 2),
        ("我們與光華物流長期合作", "alias", 1),
    ):
        links = linker.link(extract_entities([text]), text).links
        assert [(link.customer_id, link.method) for link in links] == [(cid, method)], text


def test_registry_import_keeps_both_spellings_apart_when_both_are_registered(records_engine, tmp_path):
    """GIVEN customers 光华物流 and 光華物流 both in the registry (created before names were folded) WHEN the
    registry is imported again THEN each row updates its own customer (exact names first): no error, no merge;
    and a new file naming only the traditional spelling of another customer updates that customer."""
    migrate(records_engine)
    sessions = sessionmaker(records_engine, expire_on_commit=False)
    with sessions() as session:
        session.add_all(
            [Customer(name="光华物流", status="confirmed"), Customer(name="光華物流", status="confirmed")]
        )
        session.commit()
    assert name_key("光华物流") == name_key("光華物流")
    with sessions() as session:
        report = registry.import_customers(
            session, registry.read_rows(_csv(tmp_path, "光華物流", "光华物流"))
        )
        assert report.errors == [] and report.created == 0
        names = sorted(c.name for c in session.scalars(select(Customer)))
        assert names == ["光华物流", "光華物流"]
    with sessions() as session:
        session.add(Customer(name="上海明远科技有限公司", status="confirmed"))
        session.commit()
    with sessions() as session:
        report = registry.import_customers(
            session, registry.read_rows(_csv(tmp_path, "上海明遠科技有限公司"))
        )
        assert report.errors == [] and report.created == 0 and report.updated == 1
        assert session.scalars(select(Customer).where(Customer.name.like("上海明%"))).all().__len__() == 1


def test_customer_filters_and_suggestions_take_either_spelling(records_engine):
    """The folder's text filter and the customer autocomplete find 光华物流 for 光華 (and the other way round)."""
    migrate(records_engine)
    sessions = sessionmaker(records_engine, expire_on_commit=False)
    with sessions() as session:
        session.add_all(
            [
                Customer(name="光华物流有限公司", status="confirmed", aliases=["光华物流"]),
                Customer(name="臺灣電子股份有限公司", status="confirmed"),
                Customer(name="上海明远科技有限公司", status="confirmed"),
            ]
        )
        session.commit()
    with sessions() as session:
        assert [c["name"] for c in folder.list_customers(session, ADMIN, text="光華")] == ["光华物流有限公司"]
        assert [c["name"] for c in folder.list_customers(session, ADMIN, text="台湾电子")] == [
            "臺灣電子股份有限公司"
        ]
        assert [s.value for s in suggest.suggest(session, ADMIN, "customer", "光華")] == ["光华物流有限公司"]
        assert [s.value for s in suggest.suggest(session, ADMIN, "customer", "台湾")] == [
            "臺灣電子股份有限公司"
        ]
