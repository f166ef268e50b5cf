"""A watched inbox folder: statement files dropped there are imported.

    inbox/2026-03-10.cod     -> imported, moved to inbox/done/ with a .json summary
    inbox/broken.xml         -> refused, moved to inbox/failed/ with a .error.txt saying
                                which line or element is wrong (nothing was imported)

Banks' and accountants' tools (Isabel, CodaBox, an SFTP drop, a shared folder)
deliver statements as files; this is the door for them.  A file still being
written is left alone until it has not changed for ``settle`` seconds.  Each file
is one all-or-nothing import, so a bad file never blocks the good ones after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bank import StatementError
from adapters.bank.detect import parse_file
from adapters.db.bank_repo import BACKGROUND_BYTES, import_statement_files, import_statements
from bot.config import Settings
from domain.reconciliation import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboxOutcome:
    file: str
    ok: bool
    summary: dict[str, int] | None
    error: str | None


def _destination(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / name
    n = 1
    while target.exists():  # never overwrite an earlier file of the same name
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target


def _ready(folder: Path, settle: float, now: float) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and now - p.stat().st_mtime >= settle
    )


async def import_inbox_once(
    engine: AsyncEngine,
    folder: Path,
    today: date,
    settle: float = 2.0,
    policy: Policy | None = None,
) -> list[InboxOutcome]:
    """Import every settled file of ``folder`` and move it to done/ or failed/."""
    outcomes = []
    for path in await asyncio.to_thread(_ready, folder, settle, time.time()):
        try:
            if path.stat().st_size >= BACKGROUND_BYTES:
                # Read in a second process, not in this server's (the GIL held for
                # seconds would stall every conversation meanwhile).
                result = await import_statement_files(
                    engine, [path], today=today, policy=policy, background=True
                )
            else:
                parsed = await asyncio.to_thread(parse_file, path)
                result = await import_statements(engine, parsed, today=today, policy=policy)
        except StatementError as exc:
            message = f"{exc}; nothing was imported"
            target = await asyncio.to_thread(_move, path, folder / "failed", message, None)
            log.warning("bank inbox: %s refused: %s", path.name, message)
            outcomes.append(InboxOutcome(target.name, False, None, message))
            continue
        summary = result.summary()
        target = await asyncio.to_thread(_move, path, folder / "done", None, summary)
        log.info("bank inbox: %s imported: %s", path.name, summary)
        outcomes.append(InboxOutcome(target.name, True, summary, None))
    return outcomes


def _move(path: Path, folder: Path, error: str | None, summary: dict[str, int] | None) -> Path:
    target = _destination(folder, path.name)
    path.rename(target)
    if error is not None:
        target.with_name(target.name + ".error.txt").write_text(error + "\n", encoding="utf-8")
    if summary is not None:
        target.with_name(target.name + ".json").write_text(json.dumps(summary) + "\n")
    return target


async def watch(
    engine: AsyncEngine,
    folder: Path,
    today: Callable[[], date],
    interval: float = 10.0,
    settle: float = 2.0,
    policy: Policy | None = None,
) -> None:
    """Look at the folder every ``interval`` seconds until cancelled."""
    while True:
        try:
            await import_inbox_once(engine, folder, today(), settle, policy)
        except asyncio.CancelledError:
            raise
        except Exception:  # our bug or the database: log it and keep watching
            log.exception("bank inbox: import failed")
        await asyncio.sleep(interval)


async def watch_folder(
    settings: Settings, folder: Path, once: bool = False, interval: float = 10.0
) -> list[InboxOutcome]:
    """``relance bank watch``: the command-line door to the same watcher."""
    from bot.commands.bank import bank_policy
    from bot.runtime import database

    policy = bank_policy()

    def today() -> date:
        return datetime.now(settings.timezone).date()

    async with database(settings) as engine:
        if once:
            outcomes = await import_inbox_once(engine, folder, today(), 0, policy)
            for outcome in outcomes:
                print(json.dumps(_as_json(outcome)))
            return outcomes
        await watch(engine, folder, today, interval, policy=policy)
    return []


def _as_json(outcome: InboxOutcome) -> dict[str, object]:
    return {
        "file": outcome.file,
        "ok": outcome.ok,
        "summary": outcome.summary,
        "error": outcome.error,
    }
