"""Conversations as transcripts: every intent, in French, Dutch, English and German.

Each row says what the debtor writes, what Relance must understand, a fragment of
what it answers and what must change in the ledger (and nothing else).  The
messages go through ``Conversations.receive`` with the real embedded NLU, in a
web-chat session linked to the debtor (``/start <token>``), on 2026-03-10.

Every row runs alone on SQLite (a copy of one seeded database); the whole table
also runs once on PostgreSQL, each row with its own debtor.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db.conversation_schema import conversations, escalations, messages
from adapters.db.dunning_schema import dunning_holds, payment_promises
from adapters.db.engine import create_engine
from adapters.db.ledger import import_invoices
from adapters.db.migrate import upgrade
from adapters.db.schema import debtors, invoices
from adapters.imports import read_invoice_file
from bot.channels.base import InboundMessage
from bot.config import load_settings
from bot.conversations import Conversations

TODAY = date(2026, 3, 10)  # a Tuesday
FRIDAY = date(2026, 3, 13)
DEBTORS = {  # language -> (name, kind, invoice amount)
    "fr": ("Boulangerie Dupont", "business", "400,00"),
    "nl": ("Jan Peeters", "consumer", "250,00"),
    "en": ("Acme Trading Ltd", "business", "300,00"),
    "de": ("Müller GmbH", "business", "500,00"),
}
AMOUNT = {"fr": "400,00", "nl": "250,00", "en": "300.00", "de": "500,00"}


@dataclass(frozen=True)
class Case:
    language: str
    intent: str
    says: str
    answer: str | None  # a fragment of the answer; None: Relance stays silent
    changes: dict[str, Any] = field(default_factory=dict)  # see ``ledger_changes``
    misread: str | None = None  # how the NLU gets it wrong (reported; expected to fail)
    variant: str = ""  # a second row for the same intent and language

    @property
    def id(self) -> str:
        return f"{self.language}-{self.intent}{self.variant}"


def _paused(days: int, *, invoice: bool) -> dict[str, Any]:
    return {"holds": [("paused", "invoice" if invoice else "debtor", TODAY + timedelta(days))]}


def _each(
    intent: str,
    says: dict[str, str],
    answer: dict[str, str | None],
    changes: dict[str, Any] | None = None,
    misread: dict[str, str] | None = None,
) -> list[Case]:
    return [
        Case(lang, intent, says[lang], answer[lang], changes or {}, (misread or {}).get(lang))
        for lang in ("fr", "nl", "en", "de")
    ]


CASES: list[Case] = [
    *_each(
        "already_paid",
        {
            "fr": "J'ai déjà payé cette facture hier.",
            "nl": "Ik heb die factuur gisteren al betaald.",
            "en": "I already paid this invoice yesterday.",
            "de": "Ich habe die Rechnung gestern schon bezahlt.",
        },
        {
            "fr": "pas encore ce paiement",
            "nl": "nog niet op onze",
            "en": "do not see this payment",
            "de": "noch nicht auf unseren",
        },
        _paused(7, invoice=True),
    ),
    *_each(
        "promise_to_pay",
        {
            "fr": "Je paierai vendredi.",
            "nl": "Ik betaal vrijdag.",
            "en": "I will pay on Friday.",
            "de": "Ich zahle am Freitag.",
        },
        {"fr": "13 mars 2026", "nl": "13 maart 2026", "en": "13 March 2026", "de": "13. März 2026"},
        {"promises": [("full", FRIDAY)]},
    ),
    *_each(
        "request_payment_plan",
        {
            "fr": "Est-ce que je peux payer en plusieurs fois ?",
            "nl": "Kan ik in schijven betalen?",
            "en": "Can I pay in instalments?",
            "de": "Kann ich in Raten zahlen?",
        },
        {"fr": "mensualités", "nl": "afbetalingen", "en": "instalments", "de": "Raten"},
        {"pending": "plan_choice"},
    ),
    *_each(
        "financial_hardship",
        {
            "fr": "J'ai perdu mon emploi et je n'ai plus d'argent pour le moment.",
            "nl": "Ik ben mijn werk kwijt en heb momenteel geen geld.",
            "en": "I lost my job and I have no money at the moment.",
            "de": "Ich habe meine Arbeit verloren und habe im Moment kein Geld.",
        },
        {
            "fr": "situation est difficile",
            "nl": "moeilijke situatie",
            "en": "difficult situation",
            "de": "Lage schwierig",
        },
        # Staff are told; "would you like to pay in instalments?" waits for the answer.
        _paused(14, invoice=False) | {"escalations": ["hardship"], "pending": "offer_plan"},
    ),
    *_each(
        "dispute",
        {
            "fr": "Je conteste cette facture, la marchandise n'a jamais été livrée.",
            "nl": "Ik betwist deze factuur, de goederen zijn nooit geleverd.",
            "en": "I dispute this invoice, the goods were never delivered.",
            "de": "Ich bestreite diese Rechnung, die Ware wurde nie geliefert.",
        },
        {"fr": "contestation", "nl": "betwisting", "en": "dispute", "de": "Einspruch"},
        {
            "disputed": True,
            "holds": [("dispute", "invoice", None)],
            "escalations": ["dispute"],
        },
    ),
    *_each(
        "request_invoice_copy",
        {
            "fr": "Pouvez-vous me renvoyer une copie de la facture ?",
            "nl": "Kunt u mij een kopie van de factuur sturen?",
            "en": "Could you send me a copy of the invoice?",
            "de": "Können Sie mir eine Kopie der Rechnung schicken?",
        },
        {
            "fr": "Voici le détail",
            "nl": "Hier is het detail",
            "en": "Here are the details",
            "de": "Hier die Einzelheiten",
        },
    ),
    *_each(
        "request_payment_details",
        {
            "fr": "Sur quel compte dois-je faire le virement ?",
            "nl": "Op welk rekeningnummer moet ik betalen?",
            "en": "What is your bank account number?",
            "de": "Auf welches Konto soll ich überweisen?",
        },
        dict.fromkeys(("fr", "nl", "en", "de"), "GKCCBEBB"),
    ),
    *_each(
        "ask_balance",
        {
            "fr": "Combien est-ce que je dois encore ?",
            "nl": "Hoeveel moet ik nog betalen?",
            "en": "How much do I still owe?",
            "de": "Wie viel schulde ich Ihnen noch?",
        },
        AMOUNT,
    ),
    *_each(
        "wrong_recipient",
        {
            "fr": "Vous vous trompez de personne, je ne suis pas votre client.",
            "nl": "U hebt de verkeerde persoon, ik ben geen klant van u.",
            "en": "You have the wrong person, I am not your customer.",
            "de": "Sie haben die falsche Person, ich bin nicht Ihr Kunde.",
        },
        {"fr": "excuses", "nl": "excuses", "en": "apologies", "de": "entschuldigen"},
        {"holds": [("stopped", "debtor", None)], "escalations": ["wrong_recipient"]},
    ),
    *_each(
        "insolvency",
        {
            "fr": "Notre société a été déclarée en faillite la semaine dernière.",
            "nl": "Ons bedrijf is vorige week failliet verklaard.",
            "en": "Our company went bankrupt last week.",
            "de": "Unsere Firma hat letzte Woche Insolvenz angemeldet.",
        },
        {
            "fr": "recouvrement",
            "nl": "invorderingsstappen",
            "en": "collection steps",
            "de": "Inkassoschritte",
        },
        {"holds": [("insolvency", "debtor", None)], "escalations": ["insolvency"]},
    ),
    *_each(
        "talk_to_human",
        {
            "fr": "Je voudrais parler à quelqu'un de votre service.",
            "nl": "Ik wil graag met een medewerker spreken.",
            "en": "I would like to speak to a real person.",
            "de": "Ich möchte mit einem Mitarbeiter sprechen.",
        },
        {
            "fr": "reprend la conversation",
            "nl": "neemt het gesprek over",
            "en": "will take over",
            "de": "übernimmt das Gespräch",
        },
        {"escalations": ["human_asked"]},
    ),
    *_each(
        "stop_contact",
        {
            "fr": "Arrêtez de m'envoyer des messages.",
            "nl": "Stop met mij berichten te sturen.",
            "en": "Stop sending me messages.",
            "de": "Hören Sie auf, mir Nachrichten zu schicken.",
        },
        {
            "fr": "ne vous écrirons plus",
            "nl": "niet meer zonder noodzaak",
            "en": "will not write to you",
            "de": "nicht mehr ohne Notwendigkeit",
        },
        {"escalations": ["stop_contact"]},
    ),
    *_each(
        "auto_reply",
        {
            "fr": "Je suis absent du bureau jusqu'au 20 mars, je lirai votre message à mon retour.",
            "nl": "Ik ben afwezig tot 20 maart en lees uw bericht na mijn terugkeer.",
            "en": "I am out of the office until 20 March and will read your message on my return.",
            "de": "Ich bin bis zum 20. März nicht im Büro und lese Ihre Nachricht nach meiner "
            "Rückkehr.",
        },
        dict.fromkeys(("fr", "nl", "en", "de")),
    ),
    *_each(
        "affirm",
        {"fr": "Oui, d'accord.", "nl": "Ja, dat klopt.", "en": "Yes, that's right.", "de": "Ja."},
        {
            "fr": "Que puis-je faire",
            "nl": "Wat kan ik voor u doen",
            "en": "What can I do for you",
            "de": "Was kann ich für Sie tun",
        },
    ),
    *_each(
        "deny",
        {
            "fr": "Non, pas du tout.",
            "nl": "Nee, helemaal niet.",
            "en": "No, not at all.",
            "de": "Nein, überhaupt nicht.",
        },
        {
            "fr": "Que puis-je faire",
            "nl": "Wat kan ik voor u doen",
            "en": "What can I do for you",
            "de": "Was kann ich für Sie tun",
        },
    ),
    *_each(
        "greet",
        {"fr": "Bonjour", "nl": "Goeiedag", "en": "Hello", "de": "Guten Tag"},
        {
            "fr": "Bonjour Boulangerie Dupont",
            "nl": "Goeiedag Jan Peeters",
            "en": "Hello Acme Trading Ltd",
            "de": "Guten Tag Müller GmbH",
        },
    ),
    *_each(
        "thank",
        {
            "fr": "Merci beaucoup pour votre aide.",
            "nl": "Hartelijk bedankt voor uw hulp.",
            "en": "Thank you very much for your help.",
            "de": "Vielen Dank für Ihre Hilfe.",
        },
        {
            "fr": "Avec plaisir",
            "nl": "Graag gedaan",
            "en": "You're welcome",
            "de": "Gern geschehen",
        },
    ),
    *_each(
        "out_of_scope",
        {
            "fr": "Quel temps fera-t-il demain à Bruxelles ?",
            "nl": "Wat voor weer wordt het morgen in Gent?",
            "en": "What will the weather be like in London tomorrow?",
            "de": "Wie wird das Wetter morgen in Berlin?",
        },
        {
            "fr": "pas sûr d'avoir bien compris",
            "nl": "niet zeker",
            "en": "not sure I understood",
            "de": "nicht sicher",
        },
    ),
]


CASES += [
    Case(
        "fr",
        "promise_to_pay",
        "Je paierai la facture INV-1 demain.",
        "11 mars 2026",
        {"promises": [("full", TODAY + timedelta(days=1))]},
        variant="-naming-the-invoice",
    ),
]


# ----------------------------------------------------------------------------- ledger


def _ledger_csv(path: Path) -> None:
    """One debtor per row of the table, so rows never share a ledger."""
    lines = [
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount"
    ]
    for case in CASES:
        name, kind, amount = DEBTORS[case.language]
        code = case.id.upper()
        lines.append(
            f"{code}-1;{code};{name};{kind};{case.language};{case.id}@example.be;"
            f"2026-01-10;2026-02-09;{amount}"
        )
    path.write_text("\n".join(lines) + "\n")


class FixedDay(Conversations):
    def today(self) -> date:
        return TODAY


def _service(engine: AsyncEngine) -> Conversations:
    return FixedDay(engine, load_settings({"DATABASE_URL": "sqlite://"}))


async def seed(engine: AsyncEngine, folder: Path) -> None:
    _ledger_csv(folder / "transcripts.csv")
    path = folder / "transcripts.csv"
    await import_invoices(engine, [(path.name, read_invoice_file(path))])


async def ledger_changes(engine: AsyncEngine, debtor_id: int) -> dict[str, Any]:
    """Everything a message may change for one debtor, in the table's words."""
    async with engine.connect() as conn:
        invoice = (
            await conn.execute(select(invoices).where(invoices.c.debtor_id == debtor_id))
        ).one()
        promises = (
            await conn.execute(
                select(payment_promises.c.amount, payment_promises.c.promised_date).where(
                    payment_promises.c.debtor_id == debtor_id
                )
            )
        ).all()
        holds = (
            await conn.execute(
                select(dunning_holds.c.reason, dunning_holds.c.invoice_id, dunning_holds.c.until)
                .where(
                    (dunning_holds.c.debtor_id == debtor_id)
                    | (dunning_holds.c.invoice_id == invoice.id)
                )
                .order_by(dunning_holds.c.id)
            )
        ).all()
        raised = (
            await conn.execute(
                select(escalations.c.reason)
                .where(escalations.c.debtor_id == debtor_id)
                .order_by(escalations.c.id)
            )
        ).scalars()
        state = (
            await conn.execute(
                select(conversations.c.state).where(conversations.c.debtor_id == debtor_id)
            )
        ).scalar_one()
    changes: dict[str, Any] = {}
    if promises:
        changes["promises"] = [
            ("full" if amount == invoice.amount else str(amount), when) for amount, when in promises
        ]
    if holds:
        changes["holds"] = [
            (reason, "invoice" if invoice_id else "debtor", until)
            for reason, invoice_id, until in holds
        ]
    if invoice.disputed:
        changes["disputed"] = True
    escalated = list(raised)
    if escalated:
        changes["escalations"] = escalated
    pending = json.loads(state or "{}").get("pending")
    if pending:
        changes["pending"] = pending
    return changes


async def run_case(engine: AsyncEngine, case: Case) -> tuple[str | None, str, dict[str, Any]]:
    """Link a web-chat session to the row's debtor, say the row's words; return the
    intent understood, the answer and the ledger changes."""
    service = _service(engine)
    async with engine.begin() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == case.id.upper()))
        ).scalar_one()
        token = await repo.create_link_token(conn, debtor_id, "portal")
    now = datetime.now(UTC)
    linked = await service.receive(
        InboundMessage("webchat", case.id, f"{case.id}:1", f"/start {token}", now, TODAY)
    )
    assert linked, "linking answered nothing"
    replies = await service.receive(
        InboundMessage("webchat", case.id, f"{case.id}:2", case.says, now, TODAY)
    )
    async with engine.connect() as conn:
        intent = (
            await conn.execute(
                select(messages.c.intent).where(
                    messages.c.channel == "webchat", messages.c.external_id == f"{case.id}:2"
                )
            )
        ).scalar_one()
    answer = "\n".join(r.text for r in replies)
    return intent, answer, await ledger_changes(engine, debtor_id)


def check(case: Case, intent: str | None, answer: str, changes: dict[str, Any]) -> list[str]:
    problems = []
    if intent != case.intent:
        problems.append(f"understood {intent!r}, expected {case.intent!r}")
    if case.answer is None and answer:
        problems.append(f"answered {answer!r}, expected silence")
    if case.answer is not None and case.answer not in answer:
        problems.append(f"answer lacks {case.answer!r}: {answer!r}")
    if changes != case.changes:
        problems.append(f"ledger changed {changes}, expected {case.changes}")
    return problems


# ----------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded SQLite file; each row works on its own copy."""
    import asyncio

    folder = tmp_path_factory.mktemp("transcripts")
    path = folder / "seed.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
            await seed(engine, folder)
        finally:
            await engine.dispose()

    asyncio.run(build())
    return path


def _param(case: Case) -> Any:
    marks = []
    if case.misread:
        marks.append(
            pytest.mark.xfail(
                reason=f"NLU: {case.says!r}: {case.misread}",
                strict=True,
                raises=AssertionError,
            )
        )
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
async def test_transcript(case: Case, seeded_sqlite: Path, tmp_path: Path) -> None:
    copy = tmp_path / "row.db"
    shutil.copyfile(seeded_sqlite, copy)
    engine = create_engine(f"sqlite+aiosqlite:///{copy}")
    try:
        intent, answer, changes = await run_case(engine, case)
    finally:
        await engine.dispose()
    problems = check(case, intent, answer, changes)
    assert not problems, f"{case.id}: {case.says!r}: " + "; ".join(problems)


@pytest.mark.postgres
async def test_every_transcript_on_postgresql(pg_server: str, tmp_path: Path) -> None:
    from tests.conftest import _fresh_pg_database

    engine = create_engine(await _fresh_pg_database(pg_server))
    try:
        await upgrade(engine)
        await seed(engine, tmp_path)
        failures = []
        for case in CASES:
            problems = check(case, *(await run_case(engine, case)))
            if bool(problems) != bool(case.misread):
                failures.append(f"{case.id}: {case.says!r}: {'; '.join(problems) or 'passes now'}")
    finally:
        await engine.dispose()
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------- two-turn transcripts

ASKED_DATE = {  # the debtor promises without a date; Relance asks; the debtor answers
    "fr": ("Je vais payer bientôt.", "À quelle date", "Vendredi.", "13 mars 2026"),
    "nl": ("Ik ga binnenkort betalen.", "Op welke datum", "Vrijdag.", "13 maart 2026"),
    "en": ("I will pay soon.", "On which date", "On Friday.", "13 March 2026"),
    "de": ("Ich werde bald bezahlen.", "An welchem Datum", "Am Freitag.", "13. März 2026"),
}
ASKED_DATE_MISREAD: dict[str, str] = {}  # (de was read as request_payment_details)


@pytest.mark.parametrize(
    "language",
    [
        pytest.param(
            lang,
            marks=[
                pytest.mark.xfail(
                    reason=f"NLU: {ASKED_DATE[lang][0]!r}: {ASKED_DATE_MISREAD[lang]}",
                    strict=True,
                    raises=AssertionError,
                )
            ]
            if lang in ASKED_DATE_MISREAD
            else [],
        )
        for lang in ASKED_DATE
    ],
)
async def test_a_promise_without_a_date_is_completed_by_the_next_answer(
    language: str, seeded_sqlite: Path, tmp_path: Path
) -> None:
    first, asked, second, confirmed = ASKED_DATE[language]
    copy = tmp_path / "row.db"
    shutil.copyfile(seeded_sqlite, copy)
    engine = create_engine(f"sqlite+aiosqlite:///{copy}")
    try:
        case = Case(language, "promise_to_pay", first, asked)
        intent, answer, changes = await run_case(engine, case)
        assert (intent, changes) == ("promise_to_pay", {"pending": "promise_date"}), answer
        assert asked in answer
        service = _service(engine)
        now = datetime.now(UTC)
        replies = await service.receive(
            InboundMessage("webchat", case.id, f"{case.id}:3", second, now, TODAY)
        )
        answer = "\n".join(r.text for r in replies)
        async with engine.connect() as conn:
            debtor_id = (
                await conn.execute(select(debtors.c.id).where(debtors.c.code == case.id.upper()))
            ).scalar_one()
        changes = await ledger_changes(engine, debtor_id)
    finally:
        await engine.dispose()
    assert confirmed in answer
    assert changes == {"promises": [("full", FRIDAY)]}
