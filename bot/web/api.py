"""The JSON API for the ledger: debtors and invoices.

    GET  /api/debtors                 list (``?limit=&offset=``)
    POST /api/debtors                 create or update one debtor
    GET  /api/debtors/{code}          one debtor with its invoices
    GET  /api/invoices                list (``?status=&debtor=&limit=&offset=``)
    POST /api/invoices                create or update one invoice (as one import)
    GET  /api/invoices/{number}       one invoice
    POST /api/imports/invoices        upload CSV or UBL files (multipart), all or nothing

Errors: ``{"error": {"code": "...", "message": "..."}}`` with status 400 or 404.
Writes go through the same importer as files, so the rules (references,
history, credit notes) are the same whatever the door.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from adapters.db.ledger import import_invoices, upsert_debtor
from adapters.db.ledger_read import debtor_json, invoice_json, invoice_query
from adapters.db.schema import debtors, invoices
from adapters.imports import read_invoice_file
from adapters.imports.csv_invoices import parse_date
from adapters.imports.records import DebtorRecord, InvoiceRecord, ParsedDocument
from bot.errors import ImportRefused, NotFound, RelanceError, UserError
from bot.web.keys import ENGINE, SETTINGS
from domain.debtor import normalise_email, normalise_enterprise_number, normalise_language
from domain.invoice import InvoiceKind, due_date_from_terms
from domain.money import parse_decimal
from domain.reference import normalise as normalise_reference

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    app.middlewares.append(json_errors)
    app.router.add_get("/api/debtors", list_debtors)
    app.router.add_post("/api/debtors", put_debtor)
    app.router.add_get("/api/debtors/{code}", get_debtor)
    app.router.add_get("/api/invoices", list_invoices)
    app.router.add_post("/api/invoices", put_invoice)
    app.router.add_get("/api/invoices/{number}", get_invoice)
    app.router.add_post("/api/imports/invoices", upload_invoices)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except ImportRefused as exc:
        return _error(400, exc.code, exc.message, [str(p) for p in exc.problems])
    except NotFound as exc:
        return _error(404, exc.code, exc.message)
    except RelanceError as exc:
        return _error(400, exc.code, exc.message)


def _error(status: int, code: str, message: str, problems: list[str] | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if problems:
        body["problems"] = problems
    return web.json_response({"error": body}, status=status)


def _paging(request: web.Request) -> tuple[int, int]:
    try:
        limit = min(int(request.query.get("limit", "100")), 1000)
        offset = max(int(request.query.get("offset", "0")), 0)
    except ValueError:
        raise UserError("limit and offset must be whole numbers") from None
    return limit, offset


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise UserError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise UserError("the request body must be a JSON object")
    return body


async def list_debtors(request: web.Request) -> web.Response:
    limit, offset = _paging(request)
    async with request.app[ENGINE].connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(debtors))).scalar_one()
        codes = (
            await conn.execute(
                select(debtors.c.code).order_by(debtors.c.id).limit(limit).offset(offset)
            )
        ).scalars()
        items = [await debtor_json(conn, code) for code in codes]
    return web.json_response({"total": total, "items": items})


async def get_debtor(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    async with request.app[ENGINE].connect() as conn:
        found = await debtor_json(conn, code)
        if found is None:
            raise NotFound(f"no debtor with code {code!r}")
        rows = await conn.execute(invoice_query(True).where(debtors.c.code == code))
        found["invoices"] = [invoice_json(r) for r in rows]
    return web.json_response(found)


def _debtor_record(body: dict[str, Any], prefix: str = "") -> DebtorRecord:
    field = ""
    try:
        field = f"{prefix}code"
        code = str(body.get("code") or "").strip()
        if not code:
            raise ValueError("is required")
        field = f"{prefix}name"
        name = str(body.get("name") or "").strip()
        if not name:
            raise ValueError("is required")
        field = f"{prefix}kind"
        kind = body.get("kind")
        if kind not in (None, "business", "consumer"):
            raise ValueError("must be business or consumer")
        field = f"{prefix}language"
        language = normalise_language(body["language"]) if body.get("language") else None
        field = f"{prefix}enterprise_number"
        enterprise = (
            normalise_enterprise_number(body["enterprise_number"])
            if body.get("enterprise_number")
            else None
        )
        field = f"{prefix}emails"
        emails = tuple(normalise_email(e) for e in body.get("emails") or [])
        field = f"{prefix}ibans"
        from schwifty import IBAN

        ibans = tuple(str(IBAN(i).compact) for i in body.get("ibans") or [])
    except (ValueError, TypeError) as exc:
        raise UserError(f"{field}: {exc}") from None
    address = body.get("address") or {}
    return DebtorRecord(
        code=code,
        name=name,
        kind=kind,
        language=language,
        enterprise_number=enterprise,
        phone=body.get("phone"),
        street=address.get("street"),
        postcode=address.get("postcode"),
        city=address.get("city"),
        country=(address.get("country") or "").upper() or None,
        emails=emails,
        ibans=ibans,
    )


async def put_debtor(request: web.Request) -> web.Response:
    """Create or update a debtor (it is identified by its code)."""
    record = _debtor_record(await _json_body(request))
    async with request.app[ENGINE].begin() as conn:
        await upsert_debtor(conn, record)
        found = await debtor_json(conn, record.code)
    return web.json_response(found)


async def list_invoices(request: web.Request) -> web.Response:
    limit, offset = _paging(request)
    query = invoice_query(include_credit_notes=request.query.get("credit_notes") == "1")
    if status := request.query.get("status"):
        query = query.where(invoices.c.status == status)
    if debtor := request.query.get("debtor"):
        query = query.where(debtors.c.code == debtor)
    async with request.app[ENGINE].connect() as conn:
        rows = await conn.execute(query.limit(limit).offset(offset))
        items = [invoice_json(r) for r in rows]
    return web.json_response({"items": items})


async def get_invoice(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    async with request.app[ENGINE].connect() as conn:
        row = (await conn.execute(invoice_query(True).where(invoices.c.number == number))).first()
    if row is None:
        raise NotFound(f"no invoice with number {number!r}")
    return web.json_response(invoice_json(row) | {"debtor_code": row.debtor_code})


async def put_invoice(request: web.Request) -> web.Response:
    """Create or update one invoice: ``{"number", "debtor": {...debtor...} | "debtor_code",
    "issue_date", "due_date"?, "amount", "currency"?, "structured_reference"?, ...}``."""
    body = await _json_body(request)
    settings = request.app[SETTINGS]
    async with request.app[ENGINE].connect() as conn:
        debtor_body = body.get("debtor")
        if isinstance(debtor_body, dict):
            debtor = _debtor_record(debtor_body, "debtor.")
        else:
            code = str(body.get("debtor_code") or "")
            known = await debtor_json(conn, code) if code else None
            if known is None:
                raise UserError("debtor_code: no such debtor (or give a debtor object)")
            debtor = DebtorRecord(code=code, name=known["name"])
    field = ""
    try:
        field = "number"
        number = str(body.get("number") or "").strip()
        if not number:
            raise ValueError("is required")
        field = "kind"
        kind = InvoiceKind(body.get("kind", "invoice"))
        field = "issue_date"
        issue = parse_date(str(body.get("issue_date") or ""))
        field = "due_date"
        due = (
            parse_date(str(body["due_date"]))
            if body.get("due_date")
            else due_date_from_terms(
                issue, body.get("payment_terms_days", settings.payment_terms_days)
            )
        )
        field = "amount"
        amount = parse_decimal(str(body.get("amount", "")))
        if amount < 0 or amount != amount.quantize(parse_decimal("0.01")):
            raise ValueError("must be positive with at most two decimals")
        field = "structured_reference"
        reference = None
        if body.get("structured_reference"):
            reference = normalise_reference(str(body["structured_reference"]))
            if reference is None:
                raise ValueError("not a valid OGM or RF reference")
    except (ValueError, TypeError) as exc:
        raise UserError(f"{field}: {exc}") from None
    record = InvoiceRecord(
        number=number,
        kind=kind,
        issue_date=issue,
        due_date=due,
        currency=str(body.get("currency") or "EUR").upper(),
        amount=amount.quantize(parse_decimal("0.01")),
        structured_reference=reference,
        description=str(body.get("description") or ""),
        credited_invoice=body.get("credited_invoice"),
    )
    summary = await import_invoices(
        request.app[ENGINE], [("api", [ParsedDocument("api", debtor, record)])]
    )
    async with request.app[ENGINE].connect() as conn:
        row = (await conn.execute(invoice_query(True).where(invoices.c.number == number))).one()
    status = 201 if summary.created else 200
    return web.json_response(invoice_json(row), status=status)


async def upload_invoices(request: web.Request) -> web.Response:
    """Multipart upload of one or more invoice files, imported together."""
    if not request.content_type.startswith("multipart/"):
        raise UserError("send the files as multipart/form-data")
    settings = request.app[SETTINGS]
    with tempfile.TemporaryDirectory(prefix="relance-upload-") as folder:
        paths: list[Path] = []
        reader = await request.multipart()
        async for part in reader:
            filename = getattr(part, "filename", None)
            if not filename:
                continue
            path = Path(folder) / Path(filename).name
            with path.open("wb") as handle:
                while chunk := await part.read_chunk():  # type: ignore[union-attr]
                    handle.write(chunk)
            paths.append(path)
        if not paths:
            raise UserError("no file in the upload")
        sources = [(p.name, read_invoice_file(p, settings.payment_terms_days)) for p in paths]
        summary = await import_invoices(request.app[ENGINE], sources)
    return web.json_response(summary.as_dict())
