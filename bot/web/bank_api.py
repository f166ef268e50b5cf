"""The bank part of the JSON API, and the inbox watcher run beside the web server.

    POST /api/bank/statements                 upload statement files (multipart, or the
                                              raw file with ``?filename=``): parsed,
                                              stored and reconciled, all or nothing
    GET  /api/bank/review                     lines waiting for staff, with candidates
    POST /api/bank/transactions/{id}/accept   {"rank": 1}: staff choose a candidate

With ``RELANCE_BANK_INBOX`` set to a folder, the application also watches that
folder (``bot.bank_inbox``) on its own event loop, started after the database is
open and stopped before it closes (``cleanup_ctx`` order).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from adapters.bank import StatementError
from adapters.bank.detect import parse_bytes
from adapters.db.bank_repo import (
    BACKGROUND_BYTES,
    ImportResult,
    accept_candidate,
    import_statement_files,
    import_statements,
    transactions_to_review,
)
from bot.web.keys import ENGINE, SETTINGS
from domain.reconciliation import Policy

MAX_UPLOAD = 50 * 1024 * 1024


POLICY = web.AppKey("bank_policy", Policy)


def setup(app: web.Application) -> None:
    from bot.commands.bank import bank_policy

    app[POLICY] = bank_policy()
    app.router.add_post("/api/bank/statements", upload_statements)
    app.router.add_get("/api/bank/review", review)
    app.router.add_post("/api/bank/transactions/{id}/accept", accept)
    inbox = os.environ.get("RELANCE_BANK_INBOX", "")
    if inbox:
        app.cleanup_ctx.append(_inbox_watcher(Path(inbox)))


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _today(request: web.Request) -> date:
    return datetime.now(request.app[SETTINGS].timezone).date()


async def upload_statements(request: web.Request) -> web.Response:
    files: list[tuple[str, bytes]] = []
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.filename:
                continue
            files.append((Path(part.filename).name, bytes(await part.read())))
    else:
        name = Path(request.query.get("filename", "statement")).name
        files.append((name, await request.read()))
    if not files or not any(data for _, data in files):
        return _error(400, "bad_input", "send one or more statement files")
    try:
        result = await _import(request, files)
    except StatementError as exc:
        return _error(400, "bad_statement", f"{exc}; nothing was imported")
    body: dict[str, Any] = result.summary()
    body["files"] = [name for name, _ in files]
    body["payments_matched"] = [
        {
            "invoice": e.invoice_number,
            "debtor": e.debtor_code,
            "amount": f"{e.amount:.2f}",
            "open_amount": f"{e.open_amount:.2f}",
            "confidence": round(e.confidence, 2),
            "reason": e.reason,
        }
        for e in result.events
    ]
    return web.json_response(body)


async def _import(request: web.Request, files: list[tuple[str, bytes]]) -> ImportResult:
    engine, today, policy = request.app[ENGINE], _today(request), request.app[POLICY]
    if sum(len(data) for _, data in files) < BACKGROUND_BYTES:
        parsed = [s for name, data in files for s in parse_bytes(data, name)]
        return await import_statements(engine, parsed, today=today, policy=policy)
    # A large upload is read in a second process, not in this server's: reading it
    # here would hold the event loop for seconds, every conversation waiting.
    with tempfile.TemporaryDirectory(prefix="relance-upload-") as folder:
        paths = [Path(folder) / f"{n}" for n in range(len(files))]
        for path, (_, data) in zip(paths, files, strict=True):
            await asyncio.to_thread(path.write_bytes, data)
        return await import_statement_files(
            engine,
            paths,
            today=today,
            policy=policy,
            background=True,
            names=[name for name, _ in files],
        )


async def review(request: web.Request) -> web.Response:
    return web.json_response({"items": await transactions_to_review(request.app[ENGINE])})


async def accept(request: web.Request) -> web.Response:
    try:
        transaction_id = int(request.match_info["id"])
        body = await request.json() if request.can_read_body else {}
        rank = int(body.get("rank", 1)) if isinstance(body, dict) else 1
    except ValueError:
        return _error(400, "bad_input", "the id and rank are whole numbers")
    try:
        events = await accept_candidate(
            request.app[ENGINE], transaction_id, rank, _today(request), request.app[POLICY]
        )
    except LookupError as exc:
        return _error(404, "not_found", str(exc))
    return web.json_response(
        {"paid": [{"invoice": e.invoice_number, "amount": f"{e.amount:.2f}"} for e in events]}
    )


def _inbox_watcher(folder: Path) -> Any:
    async def run(app: web.Application) -> AsyncIterator[None]:
        from bot.bank_inbox import watch

        settings = app[SETTINGS]
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        task = asyncio.create_task(
            watch(
                app[ENGINE],
                folder,
                lambda: datetime.now(settings.timezone).date(),
                policy=app[POLICY],
            )
        )
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run
