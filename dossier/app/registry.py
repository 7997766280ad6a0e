"""The customer registry's write side: import and export (CSV, XLSX, JSON), edits, review.

Import is an upsert and never duplicates a customer: a row matches an existing one by its
registry id, else its credit code, else one of its names (full name or alias, compared
after NFKC/case/space normalisation).  A matching *suggested* customer becomes confirmed;
after the rows, every remaining suggestion the registry now names is merged into that
customer, and one naming our own company is folded into it (see :mod:`dossier.app._suggestions`).
Owner names are then linked to accounts (:func:`dossier.app.owners.link_owners`).  Each bad row
is reported with its row number and reason; the other rows still go in.

Imports, edits, confirmations, rejections and merges each write one audit event
(``customer_import``, ``customer_edit``, ``customer_confirm``, ``customer_reject``,
``customer_merge``) in the transaction of the change, with the changed fields before and after.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ingest
from dossier.app._registry_audit import capped, changed_fields
from dossier.app._suggestions import Reviewed, fold_suggestions, review, unlink_ours
from dossier.app.customer_fields import check_stage, clean_tags, record_changes
from dossier.app.owners import OwnerLinks, link_owners, owner_key
from foundation.errors import NotFound, RegistryError
from foundation.messages import Message, msg
from foundation.vocabulary import customer_type_name, importance_level
from pipeline.extraction import name_key
from records import Customer, User, record_event

__all__ = [
    "COLUMNS",
    "ImportReport",
    "RegistryError",
    "Reviewed",
    "clean_row",
    "customer_type_of",
    "export_customers",
    "export_rows",
    "import_customers",
    "link_owners",
    "read_rows",
    "review",
    "update_customer",
]

#: Largest registry file accepted, and most rows.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000

#: Export/import columns: (field, Chinese header, English header and aliases accepted on import).
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("external_id", "客户编号", ("id", "external_id", "编号", "customer_id")),
    ("name", "客户名称", ("full_name", "name", "客户全称", "公司名称", "company")),
    ("aliases", "简称", ("short_name", "aliases", "alias", "别名", "简称/别名")),
    ("credit_code", "统一社会信用代码", ("uscc", "credit_code", "信用代码")),
    ("customer_type", "客户类型", ("customer_type", "type", "类型")),
    ("stage", "销售阶段", ("stage", "阶段")),
    ("industry", "行业", ("industry", "所属行业")),
    ("region", "省份", ("province", "region", "地区", "省")),
    ("city", "城市", ("city", "市")),
    ("address", "地址", ("address", "注册地址", "通讯地址")),
    ("importance", "重要程度", ("importance", "客户等级", "等级")),
    ("tags", "客户标签", ("tags", "ctag", "customer_tags", "标签")),
    ("owner_name", "负责人", ("sales_owner", "owner", "owner_name", "销售负责人", "客户经理", "销售")),
    ("contacts", "联系人", ("contacts", "联系人信息")),
    ("status", "状态", ("status",)),
    ("notes", "备注", ("notes", "note", "remark", "备注说明")),
)

_HEADERS = {
    key.strip().lower(): field_name for field_name, zh, others in COLUMNS for key in (field_name, zh, *others)
}

_STATUS_WORDS = {
    "confirmed": "confirmed",
    "已确认": "confirmed",
    "客户": "confirmed",
    "self": "self",
    "本公司": "self",
    "我方": "self",
    "own": "self",
    "suggested": "suggested",
    "待确认": "suggested",
    "rejected": "rejected",
    "已拒绝": "rejected",
}
_LIST_SPLIT = re.compile(r"[;；,，、|/\n]+")
_CONTACT_KEYS = ("name", "title", "mobile", "landline", "email")


def customer_type_of(value: str) -> str:
    """潜在/现有/流失 (or prospect/current/lost) as the registry writes it; other values unchanged."""
    return customer_type_name(value) or value.strip()


@dataclass
class ImportReport:
    """What an import did: counts, per-row errors and warnings, the customers it touched."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)
    changed_names: set[str] = field(default_factory=set)
    #: Documents to re-analyse besides those of ``touched`` (they lost a link to a folded suggestion).
    document_ids: set[int] = field(default_factory=set)
    #: Per changed customer: ``{"id", "name", "change": "created"|"updated", "changed": {field: [before, after]}}``.
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: Suggestions merged into the customer the registry now names (or folded into our own company).
    merged: list[dict[str, Any]] = field(default_factory=list)
    owners: OwnerLinks = field(default_factory=OwnerLinks)

    def as_json(self) -> dict[str, Any]:
        """The report as printed by ``dossier customers import --json``."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "warnings": self.warnings,
            "suggestions_merged": [
                {k: m[k] for k in ("id", "name", "into", "into_id", "documents")}
                | {"self": bool(m.get("self"))}
                for m in self.merged
            ],
            "owners_linked": len(self.owners.linked),
            "unmatched_owners": self.owners.unmatched,
        }

    def audit_detail(self, source: str | None) -> dict[str, Any]:
        """The ``customer_import`` event's detail: counts, and the changes, bounded in size."""
        return {
            "file": source,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "customers": capped(self.changes),
            "suggestions_merged": capped(
                [{k: v for k, v in m.items() if k != "document_ids"} for m in self.merged]
            ),
            "owners_linked": self.owners.linked_summary(),
            "unmatched_owners": [u["owner"] for u in self.owners.unmatched],
        }


# -- reading files ------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) of a registry file: ``.json``, ``.csv`` or ``.xlsx`` (by content and name)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RegistryError(msg("app.registry.unreadable", path=path, reason=exc.strerror)) from exc
    if size > MAX_IMPORT_BYTES:
        raise RegistryError(
            msg("app.registry.too_large", mb=size // 1048576, max=MAX_IMPORT_BYTES // 1048576)
        )
    data = path.read_bytes()
    if data[:2] == b"PK" or path.suffix.lower() == ".xlsx":
        rows: Iterable[tuple[int, dict[str, Any]]] = _xlsx_rows(data)
    elif path.suffix.lower() == ".json" or data.lstrip()[:1] in (b"{", b"["):
        rows = _json_rows(data)
    else:
        rows = _csv_rows(data)
    for n, (number, row) in enumerate(rows):
        if n >= MAX_IMPORT_ROWS:
            raise RegistryError(msg("app.registry.too_many_rows", max=MAX_IMPORT_ROWS))
        yield number, row


def _json_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(msg("app.registry.bad_json", reason=exc)) from exc
    records: list[Any]
    if isinstance(doc, dict):
        records = list(doc.get("customers") or [])
        seller = doc.get("seller")
        if isinstance(seller, dict):  # our own company: known, never a customer; its reps are its contacts
            records.insert(
                0, dict(seller, status="self", contacts=seller.get("contacts") or seller.get("sales_reps"))
            )
    elif isinstance(doc, list):
        records = doc
    else:
        raise RegistryError(msg("app.registry.json_shape"))
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            yield number, {"__error__": msg("app.registry.not_an_object")}
            continue
        row = {_HEADERS.get(str(k).strip().lower(), ""): v for k, v in record.items()}
        row.pop("", None)
        region = record.get("region")
        if isinstance(region, dict):  # {"province", "city", "district"}
            row["region"] = region.get("province")
            row["city"] = region.get("city") or row.get("city")
        yield number, row


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegistryError(msg("app.registry.csv_encoding"))


def _csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    yield from _table_rows(reader)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RegistryError(msg("app.registry.bad_xlsx", reason=exc)) from exc
    try:
        sheet = book.worksheets[0]
        cells = (["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True))
        yield from _table_rows(cells)
    finally:
        book.close()


def _table_rows(rows: Iterable[list[str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    header: list[str] | None = None
    for number, cells in enumerate(rows, start=1):
        if header is None:
            header = [_HEADERS.get(c.strip().lower(), "") for c in cells]
            if "name" not in header:
                raise RegistryError(msg("app.registry.no_name_column"))
            continue
        if not any(c.strip() for c in cells):
            continue
        row = {key: cells[i].strip() for i, key in enumerate(header) if key and i < len(cells)}
        yield number, row


# -- normalising a row ---------------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def _aliases(value: Any) -> list[str]:
    items = value if isinstance(value, list) else _LIST_SPLIT.split(str(value or ""))
    return list(dict.fromkeys(a for a in (" ".join(str(i).split()) for i in items) if a))


def _contacts(value: Any) -> list[dict[str, str | None]]:
    """Contacts from a JSON list, or ``姓名|职务|手机|座机|邮箱`` entries separated by ``;``/new lines."""
    if value in (None, ""):
        return []
    items: list[Any]
    if isinstance(value, list):
        items = value
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(msg("app.registry.bad_contacts", reason=exc)) from exc
        else:
            items = [
                dict(zip(_CONTACT_KEYS, (p.strip() for p in part.split("|")), strict=False))
                for part in re.split(r"[;；\n]+", text)
                if part.strip()
            ]
    out = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            continue
        contact: dict[str, str | None] = {k: _text(item.get(k), 128) for k in _CONTACT_KEYS}
        for key in ("mobile", "landline"):
            raw = contact[key]
            if raw:
                contact[key] = ingest.normalize_phone(raw) or raw
        if contact["email"]:
            contact["email"] = contact["email"].lower()
        out.append(contact)
    return out


def _reason(exc: ValueError) -> Message | str:
    """The message a row's ValueError carries (a Message when ``clean_row`` raised it)."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Message) else str(exc)


def clean_row(row: dict[str, Any]) -> tuple[dict[str, Any], list[Message]]:
    """A registry record normalised for storage, and warnings; raises ValueError for an unusable row."""
    if "__error__" in row:
        raise ValueError(row["__error__"])
    name = _text(row.get("name"), 255)
    if not name:
        raise ValueError(msg("app.registry.no_name"))
    warnings: list[Message] = []
    code = _text(row.get("credit_code"), 64)
    if code:
        code = re.sub(r"\s+", "", code).upper()
        if len(code) != 18:
            raise ValueError(msg("app.registry.credit_code_length", code=code))
        if not ingest.uscc_is_valid(code):
            warnings.append(msg("app.registry.credit_code_check", code=code))
    ctype = _text(row.get("customer_type"), 16)
    if ctype:
        normal = customer_type_name(ctype)
        if normal is None:
            raise ValueError(msg("app.registry.unknown_customer_type", value=ctype))
        ctype = normal
    status_raw = (_text(row.get("status"), 16) or "").lower()
    status = _STATUS_WORDS.get(status_raw) if status_raw else None  # None: confirmed, or what it is (self)
    if status_raw and status is None:
        raise ValueError(msg("app.registry.unknown_status", value=status_raw))
    try:
        tags = clean_tags(row.get("tags"))
    except RegistryError as exc:
        raise ValueError(exc.msg or exc.message) from exc
    importance = _text(row.get("importance"), 8)
    if importance:
        level = importance_level(importance)
        if level is None:
            raise ValueError(msg("app.registry.bad_importance", value=importance))
        importance = level
    return (
        {
            "external_id": _text(row.get("external_id"), 64),
            "name": name,
            "aliases": [a for a in _aliases(row.get("aliases")) if a != name],
            "credit_code": code,
            "customer_type": ctype,
            "stage": _text(row.get("stage"), 32),
            "industry": _text(row.get("industry"), 64),
            "region": _text(row.get("region"), 64),
            "city": _text(row.get("city"), 64),
            "address": _text(row.get("address"), 500),
            "importance": importance,
            "owner_name": _text(row.get("owner_name"), 64),
            "contacts": _contacts(row.get("contacts")),
            "status": status,
            "notes": (str(row.get("notes") or "").strip()[:4000] or None),
            "tags": tags,
        },
        warnings,
    )


# -- storing ----------------------------------------------------------------------------------------------


class _Known:
    """Existing customers by registry id, credit code and full-name key, kept current during an import."""

    def __init__(self, session: Session) -> None:
        self.by_id: dict[str, Customer] = {}
        self.by_code: dict[str, Customer] = {}
        self.by_name: dict[str, Customer] = {}
        # Names exactly as written: they are unique in the table, while two may share a key (光華 / 光华).
        self.by_exact: dict[str, Customer] = {}
        # Customers before rejected rows: a rejected (or merged) name is found only when nothing else has it.
        for customer in sorted(
            session.scalars(select(Customer)), key=lambda c: (c.status == "rejected", c.id)
        ):
            self.add(customer)

    def add(self, customer: Customer) -> None:
        if customer.external_id:
            self.by_id.setdefault(customer.external_id, customer)
        if customer.credit_code:
            self.by_code.setdefault(customer.credit_code, customer)
        self.by_name.setdefault(name_key(customer.name), customer)
        self.by_exact.setdefault(customer.name, customer)

    def find(self, record: dict[str, Any]) -> Customer | None:
        """By registry id, else credit code, else full name (the record's name or one of its aliases; as written first)."""
        if record["external_id"] and record["external_id"] in self.by_id:
            return self.by_id[record["external_id"]]
        if record["credit_code"] and record["credit_code"] in self.by_code:
            return self.by_code[record["credit_code"]]
        names = (record["name"], *record["aliases"])
        for name in names:
            found = self.by_exact.get(name)
            if found is not None:
                return found
        for name in names:
            found = self.by_name.get(name_key(name))
            if found is not None:
                return found
        return None


def import_customers(
    session: Session,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    actor: str = "system",
    source: str | None = None,
) -> ImportReport:
    """Upsert registry records, fold suggestions, link owners, audit (commits once at the end); see the module docstring."""
    report = ImportReport()
    known = _Known(session)
    for number, row in rows:
        try:
            record, warnings = clean_row(row)
        except ValueError as exc:
            report.errors.append({"row": number, "error": str(exc)})
            continue
        for warning in warnings:
            report.warnings.append({"row": number, "warning": str(warning)})
        customer = known.find(record)
        if customer is None:
            customer = Customer(name=record["name"])
            session.add(customer)
            report.created += 1
            before: dict[str, Any] = {}
        else:
            before = {key: getattr(customer, key) for key in record}
        if before and customer.name != record["name"]:
            clash = known.by_exact.get(record["name"])
            if clash is None and name_key(customer.name) != name_key(record["name"]):
                clash = known.by_name.get(name_key(record["name"]))
            if clash is not None and clash is not customer:
                report.errors.append(
                    {
                        "row": number,
                        "error": str(msg("app.registry.name_taken", name=record["name"])),
                    }
                )
                continue
        old_names = set(customer.names) if before else set()
        for key, value in record.items():
            if key == "aliases":
                value = list(
                    dict.fromkeys([*value, *(a for a in (customer.aliases or []) if a not in value)])
                )
                if customer.name and customer.name != record["name"]:
                    value = [a for a in [*value, customer.name] if a != record["name"]]
            if key == "contacts" and not value and customer.contacts:
                continue  # a file without contacts does not erase the ones we have
            if key == "tags" and not value and customer.tags:
                continue  # nor one without tags the tags
            if key == "status" and value is None:
                value = "self" if customer.status == "self" else "confirmed"  # importing it confirms it
            if value is None and before.get(key) is not None:
                continue  # an empty cell keeps what the registry knows
            setattr(customer, key, value)
        if before and owner_key(before.get("owner_name")) != owner_key(customer.owner_name):
            customer.owner_id = None  # another rep: linked again below, to their account if they have one
        session.flush()
        known.add(customer)
        after = {key: getattr(customer, key) for key in record}
        if before:
            if after == before:
                report.unchanged += 1
                continue
            report.updated += 1
            record_changes(session, customer.id, actor, before, after)
            report.changes.append(
                {
                    "id": customer.id,
                    "name": customer.name,
                    "change": "updated",
                    "changed": changed_fields(before, after),
                }
            )
        else:
            report.changes.append({"id": customer.id, "name": customer.name, "change": "created"})
        report.touched.append(customer.id)
        report.changed_names |= set(customer.names) - old_names
    report.merged = fold_suggestions(session)
    for item in report.merged:
        report.touched.append(item["into_id"])
        report.changed_names.add(item["name"])
        report.document_ids.update(item.get("document_ids", ()))
    report.document_ids |= unlink_ours(session)
    report.owners = link_owners(session)
    record_event(
        session, actor, "customer_import", target_type="registry", detail=report.audit_detail(source)
    )
    session.commit()
    return report


def _by_name(customers: Iterable[Customer]) -> list[Customer]:
    """Customers in code-point order of their names, whatever the database's collation (exports stay stable)."""
    return sorted(customers, key=lambda c: c.name)


def export_rows(session: Session, statuses: Iterable[str] = ("confirmed", "self")) -> list[list[str]]:
    """Header + one row per customer, in the import columns (round-trips through :func:`import_customers`)."""
    wanted = tuple(statuses)
    out = [[zh for _, zh, _ in COLUMNS]]
    for c in _by_name(session.scalars(select(Customer).where(Customer.status.in_(wanted)))):
        cells = []
        for field_name, _, _ in COLUMNS:
            value = getattr(c, field_name)
            if field_name == "aliases":
                value = "；".join(value or [])
            elif field_name == "contacts":
                value = "；".join("|".join(str(ct.get(k) or "") for k in _CONTACT_KEYS) for ct in value or [])
            elif field_name == "tags":
                value = "；".join(value or [])
            cells.append("" if value is None else str(value))
        out.append(cells)
    return out


def export_customers(session: Session, path: Path) -> int:
    """Write the registry to ``path`` (format by suffix: .csv, .xlsx or .json); returns the row count."""
    suffix = path.suffix.lower()
    rows = export_rows(session)
    if suffix == ".json":
        keys = [f for f, _, _ in COLUMNS]
        records = []
        for c in _by_name(
            session.scalars(select(Customer).where(Customer.status.in_(("confirmed", "self"))))
        ):
            records.append({k: getattr(c, k) for k in keys})
        path.write_text(json.dumps({"customers": records}, ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("客户 Customers")
        for row in rows:
            sheet.append([_inert(c) for c in row])
        book.save(path)
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerows([[_inert(c) for c in row] for row in rows])
    else:
        raise RegistryError(msg("app.registry.export_format", suffix=suffix or "(-)"))
    return len(rows) - 1


def _inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def update_customer(
    session: Session, customer_id: int, fields: dict[str, Any], *, actor: str = "system"
) -> tuple[Customer, set[str], list[Message], set[str]]:
    """Change one customer's registry fields (validated like an imported row); returns it, new names, warnings, changed fields.

    ``fields`` uses the import field names (``name``, ``aliases``, ``credit_code``,
    ``customer_type``, ``stage``, ``industry``, ``region``, ``city``, ``address``,
    ``importance``, ``owner_name``, ``contacts``, ``notes``) and ``tags`` (客户标签, see
    :func:`dossier.app.customer_fields.clean_tags`); a field left out keeps its value, an empty
    one clears it.  A new owner name is linked to its account (see :mod:`dossier.app.owners`).
    Writes a ``customer_edit`` event with the changed fields before and after, a
    :class:`records.CustomerChange` row per changed stage, type, importance or owner name, and
    commits.  Raises :class:`RegistryError` with the reason.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status == "rejected":
        raise NotFound(msg("app.customer.not_found", id=customer_id))
    fields = dict(fields)
    unknown = set(fields) - {f for f, _, _ in COLUMNS} - {"status"}
    if unknown:
        raise RegistryError(msg("app.registry.unknown_fields", fields=", ".join(sorted(unknown))))
    if "stage" in fields:
        check_stage(fields["stage"])
    current = {f: getattr(customer, f) for f, _, _ in COLUMNS}
    current["status"] = None
    if "importance" not in fields and current["importance"] and not importance_level(current["importance"]):
        current["importance"] = None  # a value stored before importance was checked stays as it is
    try:
        record, warnings = clean_row({**current, **fields, "status": fields.get("status")})
    except ValueError as exc:
        raise RegistryError(_reason(exc)) from exc
    if "importance" not in fields:
        record["importance"] = customer.importance
    clash = session.scalars(
        select(Customer).where(Customer.name == record["name"], Customer.id != customer.id)
    ).first()
    if clash is not None or (
        record["credit_code"]
        and record["credit_code"] != customer.credit_code
        and session.scalars(
            select(Customer).where(Customer.credit_code == record["credit_code"], Customer.id != customer.id)
        ).first()
    ):
        raise RegistryError(msg("app.registry.name_or_code_taken"))
    old_names = set(customer.names)
    before = {
        **{key: getattr(customer, key) for key in record},
        "owner_account": _login(session, customer.owner_id),
    }
    for key, value in record.items():
        if key == "status":
            value = value or ("self" if customer.status == "self" else customer.status)
        setattr(customer, key, value)
    if owner_key(record["owner_name"]) != owner_key(before["owner_name"]):
        customer.owner_id = None  # a new rep: their account, if they have one (linked below)
    link_owners(session)
    after = {
        **{key: getattr(customer, key) for key in record},
        "owner_account": _login(session, customer.owner_id),
    }
    changed = changed_fields(before, after)
    record_changes(session, customer.id, actor, before, after)
    if changed:
        record_event(
            session,
            actor,
            "customer_edit",
            target_type="customer",
            target_id=customer.id,
            detail={"name": customer.name, "changed": changed},
        )
    session.commit()
    return customer, set(customer.names) - old_names, warnings, set(changed)


def _login(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user is not None else None
