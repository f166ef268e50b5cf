"""The console's words in French, Dutch and German (English is the source).

    _ = translator("nl");  _("Take over") -> "Overnemen";  _("unlisted") -> "unlisted"

A small table rather than gettext catalogues: staff pages have a few hundred short
labels, they change together with the templates, and a test checks that every
``_("...")`` of ``templates/console`` has its three translations.  A missing word
falls back to English, never to an error.  The language is the staff member's
choice (a cookie set by ``/console/language``), else the browser's.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "fr", "nl", "de")
COOKIE = "relance_console_lang"

# English -> (French, Dutch, German)
CATALOGUE: dict[str, tuple[str, str, str]] = {
    # navigation and sign-in
    "Relance console": ("Console Relance", "Relance-console", "Relance-Konsole"),
    "Credit staff console": (
        "Console du service crédit",
        "Console kredietbeheer",
        "Konsole Forderungsmanagement",
    ),
    "Inbox": ("Boîte de réception", "Inbox", "Posteingang"),
    "Conversations": ("Conversations", "Gesprekken", "Gespräche"),
    "Decisions": ("Décisions", "Beslissingen", "Entscheidungen"),
    "Debtors": ("Débiteurs", "Debiteuren", "Schuldner"),
    "Overview": ("Vue d'ensemble", "Overzicht", "Übersicht"),
    "Audit log": ("Journal d'audit", "Auditlog", "Prüfprotokoll"),
    "Users": ("Utilisateurs", "Gebruikers", "Benutzer"),
    "Sign in": ("Se connecter", "Aanmelden", "Anmelden"),
    "Sign out": ("Se déconnecter", "Afmelden", "Abmelden"),
    "Login": ("Identifiant", "Gebruikersnaam", "Benutzername"),
    "Password": ("Mot de passe", "Wachtwoord", "Passwort"),
    "Wrong login or password.": (
        "Identifiant ou mot de passe incorrect.",
        "Verkeerde gebruikersnaam of wachtwoord.",
        "Falscher Benutzername oder falsches Passwort.",
    ),
    "Too many failed attempts. Wait 15 minutes and try again.": (
        "Trop d'essais manqués. Attendez 15 minutes et réessayez.",
        "Te veel mislukte pogingen. Wacht 15 minuten en probeer opnieuw.",
        "Zu viele Fehlversuche. Warten Sie 15 Minuten und versuchen Sie es erneut.",
    ),
    "The form expired. Please try again.": (
        "Le formulaire a expiré. Veuillez réessayer.",
        "Het formulier is verlopen. Probeer opnieuw.",
        "Das Formular ist abgelaufen. Bitte erneut versuchen.",
    ),
    "Your session ended. Please sign in again.": (
        "Votre session a pris fin. Veuillez vous reconnecter.",
        "Uw sessie is beëindigd. Meld u opnieuw aan.",
        "Ihre Sitzung ist beendet. Bitte melden Sie sich erneut an.",
    ),
    "Go back": ("Retour", "Terug", "Zurück"),
    "Not allowed": ("Non autorisé", "Niet toegestaan", "Nicht erlaubt"),
    "Not done": ("Non effectué", "Niet uitgevoerd", "Nicht ausgeführt"),
    # roles
    "agent": ("agent", "medewerker", "Sachbearbeiter"),
    "manager": ("responsable", "manager", "Leiter"),
    "admin": ("administrateur", "beheerder", "Administrator"),
    # inbox
    "Show": ("Afficher", "Tonen", "Anzeigen"),
    "Reason": ("Motif", "Reden", "Grund"),
    "Any": ("Tous", "Alle", "Alle"),
    "Filter": ("Filtrer", "Filteren", "Filtern"),
    "Open and taken": ("Ouvertes et prises", "Open en opgenomen", "Offen und übernommen"),
    "Open": ("Ouvert", "Open", "Offen"),
    "Taken": ("Prises", "Opgenomen", "Übernommen"),
    "Resolved": ("Résolues", "Afgehandeld", "Erledigt"),
    "All": ("Toutes", "Alle", "Alle"),
    "Priority": ("Priorité", "Prioriteit", "Priorität"),
    "Debtor": ("Débiteur", "Debiteur", "Schuldner"),
    "Channel": ("Canal", "Kanaal", "Kanal"),
    "Last message": ("Dernier message", "Laatste bericht", "Letzte Nachricht"),
    "Since": ("Depuis", "Sinds", "Seit"),
    "Status": ("Statut", "Status", "Status"),
    "unknown": ("inconnu", "onbekend", "unbekannt"),
    "by": ("par", "door", "von"),
    "staff answering": ("le personnel répond", "medewerker antwoordt", "Mitarbeiter antwortet"),
    "Nothing waits for you. The bot is handling every conversation.": (
        "Rien ne vous attend. Le bot gère toutes les conversations.",
        "Niets wacht op u. De bot behandelt alle gesprekken.",
        "Nichts wartet auf Sie. Der Bot führt alle Gespräche.",
    ),
    "open": ("ouvert", "open", "offen"),
    "taken": ("prise", "opgenomen", "übernommen"),
    "resolved": ("résolue", "afgehandeld", "erledigt"),
    # reasons
    "Dispute": ("Contestation", "Betwisting", "Einspruch"),
    "Insolvency": ("Insolvabilité", "Insolventie", "Insolvenz"),
    "Asked for a person": (
        "Demande une personne",
        "Vraagt een medewerker",
        "Möchte einen Menschen",
    ),
    "Not understood": ("Pas compris", "Niet begrepen", "Nicht verstanden"),
    "Wrong recipient": ("Mauvais destinataire", "Verkeerde ontvanger", "Falscher Empfänger"),
    "Angry": ("Mécontent", "Boos", "Verärgert"),
    "Plan outside policy": (
        "Plan hors politique",
        "Plan buiten beleid",
        "Plan außerhalb der Regeln",
    ),
    "Bounce": ("Message non distribué", "Onbestelbaar", "Unzustellbar"),
    "Financial hardship": (
        "Difficultés financières",
        "Financiële moeilijkheden",
        "Finanzielle Notlage",
    ),
    "Document asked for": ("Document demandé", "Document gevraagd", "Dokument angefragt"),
    "Unknown sender": ("Expéditeur inconnu", "Onbekende afzender", "Unbekannter Absender"),
    "Asked to stop contact": (
        "Demande l'arrêt des contacts",
        "Vraagt geen contact meer",
        "Wünscht keinen Kontakt",
    ),
    # conversations
    "Answered by": ("Répondu par", "Beantwoord door", "Beantwortet von"),
    "Answered by the bot": ("Le bot répond", "De bot antwoordt", "Der Bot antwortet"),
    "not identified": ("non identifié", "niet geïdentificeerd", "nicht identifiziert"),
    "bot": ("bot", "bot", "Bot"),
    "No conversation yet.": (
        "Pas encore de conversation.",
        "Nog geen gesprek.",
        "Noch kein Gespräch.",
    ),
    "Unidentified sender": (
        "Expéditeur non identifié",
        "Niet-geïdentificeerde afzender",
        "Nicht identifizierter Absender",
    ),
    "Hand back to the bot": ("Rendre au bot", "Teruggeven aan de bot", "An den Bot zurückgeben"),
    "Take over": ("Reprendre la main", "Overnemen", "Übernehmen"),
    "debtor": ("débiteur", "debiteur", "Schuldner"),
    "ledger": ("grand livre", "grootboek", "Hauptbuch"),
    "what the bot understood": (
        "ce que le bot a compris",
        "wat de bot begreep",
        "was der Bot verstanden hat",
    ),
    "for staff": ("pour le personnel", "voor medewerker", "für Mitarbeiter"),
    "sent": ("envoyé", "verzonden", "gesendet"),
    "queued": ("en file", "in wachtrij", "in Warteschlange"),
    "No message yet.": ("Pas encore de message.", "Nog geen bericht.", "Noch keine Nachricht."),
    "Reply through": ("Répondre via", "Antwoorden via", "Antworten über"),
    "Send": ("Envoyer", "Verzenden", "Senden"),
    "Take the conversation over to answer it yourself; the bot stays silent until you hand it back.": (  # noqa: E501
        "Reprenez la conversation pour répondre vous-même ; le bot se tait jusqu'à ce que vous la lui rendiez.",  # noqa: E501
        "Neem het gesprek over om zelf te antwoorden; de bot zwijgt tot u het teruggeeft.",
        "Übernehmen Sie das Gespräch, um selbst zu antworten; der Bot schweigt, bis Sie es zurückgeben.",  # noqa: E501
    ),
    "Escalations": ("Escalades", "Escalaties", "Eskalationen"),
    "Resolve": ("Résoudre", "Afhandelen", "Erledigen"),
    "None.": ("Aucun.", "Geen.", "Keine."),
    "Disputed invoices": ("Factures contestées", "Betwiste facturen", "Bestrittene Rechnungen"),
    "Accept partly: credit note of": (
        "Accepter en partie : note de crédit de",
        "Gedeeltelijk aanvaarden: creditnota van",
        "Teilweise annehmen: Gutschrift über",
    ),
    "Accept fully (credit note for the open amount)": (
        "Accepter entièrement (note de crédit du solde)",
        "Volledig aanvaarden (creditnota voor het openstaande bedrag)",
        "Vollständig annehmen (Gutschrift über den offenen Betrag)",
    ),
    "Reject: reminders resume": (
        "Rejeter : les rappels reprennent",
        "Afwijzen: herinneringen hervatten",
        "Ablehnen: Mahnungen laufen weiter",
    ),
    "Note for the audit log": (
        "Note pour le journal d'audit",
        "Notitie voor het auditlog",
        "Notiz für das Prüfprotokoll",
    ),
    "Resolve the dispute?": (
        "Résoudre la contestation ?",
        "De betwisting afhandelen?",
        "Den Einspruch entscheiden?",
    ),
    "Resolve dispute": (
        "Résoudre la contestation",
        "Betwisting afhandelen",
        "Einspruch entscheiden",
    ),
    "A manager resolves disputes.": (
        "Un responsable tranche les contestations.",
        "Een manager handelt betwistingen af.",
        "Ein Leiter entscheidet Einsprüche.",
    ),
    "Open invoices": ("Factures ouvertes", "Openstaande facturen", "Offene Rechnungen"),
    "due": ("échéance", "vervalt", "fällig"),
    "Nothing open.": ("Rien d'ouvert.", "Niets open.", "Nichts offen."),
    "Reminders": ("Rappels", "Herinneringen", "Mahnungen"),
    "Pause until": ("Suspendre jusqu'au", "Pauzeren tot", "Pausieren bis"),
    "Why": ("Pourquoi", "Waarom", "Warum"),
    "Pause": ("Suspendre", "Pauzeren", "Pausieren"),
    "Stop": ("Arrêter", "Stoppen", "Stoppen"),
    "Stop every reminder to this debtor?": (
        "Arrêter tous les rappels à ce débiteur ?",
        "Alle herinneringen aan deze debiteur stoppen?",
        "Alle Mahnungen an diesen Schuldner stoppen?",
    ),
    # invoice words
    "invoice": ("facture", "factuur", "Rechnung"),
    "credit note": ("note de crédit", "creditnota", "Gutschrift"),
    "partially_paid": ("partiellement payée", "gedeeltelijk betaald", "teilweise bezahlt"),
    "paid": ("payé", "betaald", "bezahlt"),
    "disputed": ("contestée", "betwist", "bestritten"),
    "written_off": ("passée en perte", "afgeschreven", "abgeschrieben"),
    "business": ("entreprise", "onderneming", "Unternehmen"),
    "consumer": ("consommateur", "consument", "Verbraucher"),
    # decisions
    "Disputes": ("Contestations", "Betwistingen", "Einsprüche"),
    "Invoice": ("Facture", "Factuur", "Rechnung"),
    "Due": ("Échéance", "Vervaldag", "Fällig"),
    "Decision": ("Décision", "Beslissing", "Entscheidung"),
    "Accept partly, credit": (
        "Accepter en partie, créditer",
        "Gedeeltelijk aanvaarden, crediteren",
        "Teilweise annehmen, gutschreiben",
    ),
    "Accept fully": ("Accepter entièrement", "Volledig aanvaarden", "Vollständig annehmen"),
    "Reject": ("Rejeter", "Afwijzen", "Ablehnen"),
    "amount": ("montant", "bedrag", "Betrag"),
    "note": ("note", "notitie", "Notiz"),
    "a manager decides": ("un responsable décide", "een manager beslist", "ein Leiter entscheidet"),
    "Payment plans outside policy": (
        "Plans de paiement hors politique",
        "Afbetalingsplannen buiten beleid",
        "Zahlungspläne außerhalb der Regeln",
    ),
    "conversation": ("conversation", "gesprek", "Gespräch"),
    "Instalments": ("Mensualités", "Termijnen", "Raten"),
    "first due": ("première échéance", "eerste vervaldag", "erste Fälligkeit"),
    "Approve plan": ("Approuver le plan", "Plan goedkeuren", "Plan genehmigen"),
    "Reject the plan? Reminders resume.": (
        "Rejeter le plan ? Les rappels reprennent.",
        "Het plan afwijzen? Herinneringen hervatten.",
        "Den Plan ablehnen? Die Mahnungen laufen weiter.",
    ),
    "A manager approves or rejects plans.": (
        "Un responsable approuve ou rejette les plans.",
        "Een manager keurt plannen goed of af.",
        "Ein Leiter genehmigt oder lehnt Pläne ab.",
    ),
    "No plan waits for a decision.": (
        "Aucun plan n'attend de décision.",
        "Geen plan wacht op een beslissing.",
        "Kein Plan wartet auf eine Entscheidung.",
    ),
    "Unmatched bank lines": (
        "Lignes bancaires non rapprochées",
        "Niet-gekoppelde banklijnen",
        "Nicht zugeordnete Bankbuchungen",
    ),
    "Apply": ("Appliquer", "Toepassen", "Anwenden"),
    "a manager applies payments": (
        "un responsable applique les paiements",
        "een manager past betalingen toe",
        "ein Leiter ordnet Zahlungen zu",
    ),
    "No candidate found.": (
        "Aucun candidat trouvé.",
        "Geen kandidaat gevonden.",
        "Kein Kandidat gefunden.",
    ),
    "Every bank line is matched.": (
        "Toutes les lignes bancaires sont rapprochées.",
        "Alle banklijnen zijn gekoppeld.",
        "Alle Bankbuchungen sind zugeordnet.",
    ),
    "Tomorrow's reminders": (
        "Rappels de demain",
        "Herinneringen van morgen",
        "Mahnungen von morgen",
    ),
    "Level": ("Niveau", "Niveau", "Stufe"),
    "Tone": ("Ton", "Toon", "Ton"),
    "Claimed": ("Réclamé", "Gevorderd", "Gefordert"),
    "Hold": ("Retenir", "Tegenhouden", "Zurückhalten"),
    "No reminder goes out tomorrow.": (
        "Aucun rappel ne part demain.",
        "Morgen vertrekt geen herinnering.",
        "Morgen geht keine Mahnung hinaus.",
    ),
    "Holds in force": ("Suspensions en cours", "Lopende opschortingen", "Aktive Sperren"),
    "On": ("Sur", "Op", "Auf"),
    "Until": ("Jusqu'au", "Tot", "Bis"),
    "By": ("Par", "Door", "Von"),
    "Note": ("Note", "Notitie", "Notiz"),
    "every invoice": ("toutes les factures", "alle facturen", "alle Rechnungen"),
    "for good": ("définitivement", "definitief", "endgültig"),
    "Release": ("Lever", "Opheffen", "Aufheben"),
    "No hold.": ("Aucune suspension.", "Geen opschorting.", "Keine Sperre."),
    "No open dispute.": (
        "Aucune contestation ouverte.",
        "Geen open betwisting.",
        "Kein offener Einspruch.",
    ),
    "paused": ("suspendu", "gepauzeerd", "pausiert"),
    "stopped": ("arrêté", "gestopt", "gestoppt"),
    "dispute": ("contestation", "betwisting", "Einspruch"),
    "takeover": ("reprise", "overname", "Übernahme"),
    "promise": ("promesse", "belofte", "Zusage"),
    "insolvency": ("insolvabilité", "insolventie", "Insolvenz"),
    "out_of_office": ("absence", "afwezigheid", "Abwesenheit"),
    # debtor page
    "Invoices": ("Factures", "Facturen", "Rechnungen"),
    "Number": ("Numéro", "Nummer", "Nummer"),
    "Kind": ("Type", "Soort", "Art"),
    "Issued": ("Émise", "Uitgegeven", "Ausgestellt"),
    "Amount": ("Montant", "Bedrag", "Betrag"),
    "Pause 14 days": ("Suspendre 14 jours", "14 dagen pauzeren", "14 Tage pausieren"),
    "Write off": ("Passer en perte", "Afschrijven", "Abschreiben"),
    "Write off what is open?": (
        "Passer le solde en perte ?",
        "Het openstaande bedrag afschrijven?",
        "Den offenen Betrag abschreiben?",
    ),
    "Payments and credits": (
        "Paiements et crédits",
        "Betalingen en creditnota's",
        "Zahlungen und Gutschriften",
    ),
    "When": ("Quand", "Wanneer", "Wann"),
    "Source": ("Origine", "Bron", "Herkunft"),
    "bank": ("banque", "bank", "Bank"),
    "opening": ("solde d'ouverture", "beginsaldo", "Anfangssaldo"),
    "credit": ("avoir", "tegoed", "Guthaben"),
    "Overpayments held": ("Trop-perçus détenus", "Te veel betaald, in bewaring", "Überzahlungen"),
    "paid on": ("payé le", "betaald op", "bezahlt am"),
    "refund approved": (
        "remboursement approuvé",
        "terugbetaling goedgekeurd",
        "Erstattung genehmigt",
    ),
    "The debtor still owes": (
        "Le débiteur doit encore",
        "De debiteur moet nog",
        "Der Schuldner schuldet noch",
    ),
    "open invoice": ("facture ouverte", "openstaande factuur", "offene Rechnung"),
    "open invoices": ("factures ouvertes", "openstaande facturen", "offene Rechnungen"),
    "The debtor owes nothing else: the next refund file pays it back.": (
        "Le débiteur ne doit rien d'autre : le prochain fichier de remboursements le rembourse.",
        "De debiteur is niets anders verschuldigd: "
        "het volgende terugbetalingsbestand betaalt het terug.",
        "Der Schuldner schuldet sonst nichts: die nächste Erstattungsdatei zahlt es zurück.",
    ),
    "Set against open invoices": (
        "Imputer sur les factures ouvertes",
        "Verrekenen met openstaande facturen",
        "Mit offenen Rechnungen verrechnen",
    ),
    "Pay the credit back although the debtor still owes?": (
        "Rembourser l'avoir alors que le débiteur doit encore ?",
        "Het tegoed terugbetalen hoewel de debiteur nog iets verschuldigd is?",
        "Das Guthaben erstatten, obwohl der Schuldner noch etwas schuldet?",
    ),
    "Approve refund": (
        "Approuver le remboursement",
        "Terugbetaling goedkeuren",
        "Erstattung genehmigen",
    ),
    "A manager sets it against the invoices or approves a refund.": (
        "Un responsable l'impute sur les factures ou approuve un remboursement.",
        "Een manager verrekent het met de facturen of keurt een terugbetaling goed.",
        "Eine Führungskraft verrechnet es mit den Rechnungen oder genehmigt eine Erstattung.",
    ),
    "No overpayment is held.": (
        "Aucun trop-perçu n'est détenu.",
        "Er is geen te veel betaald bedrag in bewaring.",
        "Es liegt keine Überzahlung vor.",
    ),
    "Reminders sent": ("Rappels envoyés", "Verzonden herinneringen", "Versandte Mahnungen"),
    "Day": ("Jour", "Dag", "Tag"),
    "State": ("État", "Toestand", "Zustand"),
    "Promises": ("Promesses", "Beloftes", "Zusagen"),
    "Plans": ("Plans", "Plannen", "Pläne"),
    "plan": ("plan", "plan", "Plan"),
    "active": ("actif", "actief", "aktiv"),
    "completed": ("terminé", "voltooid", "abgeschlossen"),
    "broken": ("rompu", "verbroken", "gebrochen"),
    "cancelled": ("annulé", "geannuleerd", "storniert"),
    "kept": ("tenue", "nagekomen", "eingehalten"),
    "Holds": ("Suspensions", "Opschortingen", "Sperren"),
    "until": ("jusqu'au", "tot", "bis"),
    "released by": ("levée par", "opgeheven door", "aufgehoben von"),
    "ended": ("terminée", "beëindigd", "beendet"),
    "Pause every reminder until": (
        "Suspendre tous les rappels jusqu'au",
        "Alle herinneringen pauzeren tot",
        "Alle Mahnungen pausieren bis",
    ),
    "History": ("Historique", "Geschiedenis", "Verlauf"),
    "Name or code": ("Nom ou code", "Naam of code", "Name oder Code"),
    "No debtor found.": (
        "Aucun débiteur trouvé.",
        "Geen debiteur gevonden.",
        "Kein Schuldner gefunden.",
    ),
    "Search": ("Rechercher", "Zoeken", "Suchen"),
    "Code": ("Code", "Code", "Code"),
    "Name": ("Nom", "Naam", "Name"),
    # overview
    "open receivables": ("créances ouvertes", "openstaande vorderingen", "offene Forderungen"),
    "days sales outstanding (90-day count-back)": (
        "délai moyen de paiement (DSO, 90 jours)",
        "gemiddelde betaaltermijn (DSO, 90 dagen)",
        "Forderungslaufzeit (DSO, 90 Tage)",
    ),
    "promises kept (of kept and broken)": (
        "promesses tenues (tenues et rompues)",
        "nagekomen beloftes (van nagekomen en verbroken)",
        "eingehaltene Zusagen (von eingehaltenen und gebrochenen)",
    ),
    "cash expected, next 8 weeks": (
        "encaissements attendus, 8 semaines",
        "verwachte ontvangsten, 8 weken",
        "erwartete Eingänge, 8 Wochen",
    ),
    "conversations closed by the bot": (
        "conversations closes par le bot",
        "gesprekken afgerond door de bot",
        "vom Bot abgeschlossene Gespräche",
    ),
    "Ageing: open amounts by days past due": (
        "Ancienneté : montants ouverts par jours de retard",
        "Ouderdom: open bedragen per dagen achterstand",
        "Altersstruktur: offene Beträge nach Verzugstagen",
    ),
    "Cash expected from promises and plans, by week": (
        "Encaissements attendus des promesses et plans, par semaine",
        "Verwachte ontvangsten uit beloftes en plannen, per week",
        "Erwartete Eingänge aus Zusagen und Plänen, pro Woche",
    ),
    "Promises to pay": ("Promesses de paiement", "Betalingsbeloftes", "Zahlungszusagen"),
    "Conversations the bot closed without staff": (
        "Conversations closes par le bot sans le personnel",
        "Gesprekken die de bot zonder medewerker afrondde",
        "Vom Bot ohne Mitarbeiter abgeschlossene Gespräche",
    ),
    "not due": ("non échu", "niet vervallen", "nicht fällig"),
    "closed by the bot without staff": (
        "closes par le bot sans le personnel",
        "door de bot afgerond zonder medewerker",
        "vom Bot ohne Mitarbeiter abgeschlossen",
    ),
    "needed staff": ("ont demandé le personnel", "vroegen een medewerker", "brauchten Mitarbeiter"),
    "no conversations yet": (
        "pas encore de conversation",
        "nog geen gesprekken",
        "noch keine Gespräche",
    ),
    # audit and users
    "Any action": ("Toute action", "Elke actie", "Jede Aktion"),
    "Who": ("Qui", "Wie", "Wer"),
    "What": ("Quoi", "Wat", "Was"),
    "Details": ("Détails", "Details", "Details"),
    "Nothing recorded.": ("Rien d'enregistré.", "Niets geregistreerd.", "Nichts erfasst."),
    "Older entries": ("Entrées plus anciennes", "Oudere items", "Ältere Einträge"),
    "Role": ("Rôle", "Rol", "Rolle"),
    "Active": ("Actif", "Actief", "Aktiv"),
    "Last sign-in": ("Dernière connexion", "Laatste aanmelding", "Letzte Anmeldung"),
    "Change": ("Modifier", "Wijzigen", "Ändern"),
    "yes": ("oui", "ja", "ja"),
    "no": ("non", "nee", "nein"),
    "Set role": ("Changer le rôle", "Rol instellen", "Rolle setzen"),
    "Deactivate": ("Désactiver", "Deactiveren", "Deaktivieren"),
    "Activate": ("Activer", "Activeren", "Aktivieren"),
    "new password": ("nouveau mot de passe", "nieuw wachtwoord", "neues Passwort"),
    "Set password": ("Définir le mot de passe", "Wachtwoord instellen", "Passwort setzen"),
    "Add a user": ("Ajouter un utilisateur", "Gebruiker toevoegen", "Benutzer hinzufügen"),
    "Add": ("Ajouter", "Toevoegen", "Hinzufügen"),
    # timeline and audit actions
    "take over": (
        "reprise par le personnel",
        "overname door medewerker",
        "Übernahme durch Mitarbeiter",
    ),
    "hand back": ("rendu au bot", "teruggegeven aan de bot", "an den Bot zurückgegeben"),
    "dispute opened": ("contestation ouverte", "betwisting geopend", "Einspruch eröffnet"),
    "dispute resolved": ("contestation résolue", "betwisting afgehandeld", "Einspruch entschieden"),
    "escalated": ("escaladé", "geëscaleerd", "eskaliert"),
    "linked": ("lié", "gekoppeld", "verknüpft"),
    "promise recorded": ("promesse enregistrée", "belofte geregistreerd", "Zusage erfasst"),
    "dunning paused": ("rappels suspendus", "herinneringen gepauzeerd", "Mahnungen pausiert"),
    "dunning stopped": ("rappels arrêtés", "herinneringen gestopt", "Mahnungen gestoppt"),
    "hold released": ("suspension levée", "opschorting opgeheven", "Sperre aufgehoben"),
    "written off": ("passé en perte", "afgeschreven", "abgeschrieben"),
    "escalation resolved": ("escalade résolue", "escalatie afgehandeld", "Eskalation erledigt"),
    "bank line applied": (
        "ligne bancaire appliquée",
        "banklijn toegepast",
        "Bankbuchung zugeordnet",
    ),
    "plan approved": ("plan approuvé", "plan goedgekeurd", "Plan genehmigt"),
    "credit set against": ("avoir imputé", "tegoed verrekend", "Guthaben verrechnet"),
    "plan rejected": ("plan rejeté", "plan afgewezen", "Plan abgelehnt"),
    "plan accepted": ("plan accepté", "plan aanvaard", "Plan angenommen"),
    "answered": ("a répondu", "beantwoord", "beantwortet"),
    "signed in": ("connecté", "aangemeld", "angemeldet"),
    "signed out": ("déconnecté", "afgemeld", "abgemeldet"),
    "refused": ("refusé", "geweigerd", "verweigert"),
    # notices
    "You took the conversation over: the bot stays silent until you hand it back.": (
        "Vous avez repris la conversation : le bot se tait jusqu'à ce que vous la lui rendiez.",
        "U hebt het gesprek overgenomen: de bot zwijgt tot u het teruggeeft.",
        "Sie haben das Gespräch übernommen: Der Bot schweigt, bis Sie es zurückgeben.",
    ),
    "The conversation is back with the bot.": (
        "La conversation est rendue au bot.",
        "Het gesprek is terug bij de bot.",
        "Das Gespräch ist wieder beim Bot.",
    ),
    "Reply sent through the debtor's channel.": (
        "Réponse envoyée par le canal du débiteur.",
        "Antwoord verzonden via het kanaal van de debiteur.",
        "Antwort über den Kanal des Schuldners gesendet.",
    ),
    "Escalation resolved.": ("Escalade résolue.", "Escalatie afgehandeld.", "Eskalation erledigt."),
    "Reminders paused.": ("Rappels suspendus.", "Herinneringen gepauzeerd.", "Mahnungen pausiert."),
    "Reminders stopped.": ("Rappels arrêtés.", "Herinneringen gestopt.", "Mahnungen gestoppt."),
    "Hold released: reminders resume.": (
        "Suspension levée : les rappels reprennent.",
        "Opschorting opgeheven: herinneringen hervatten.",
        "Sperre aufgehoben: Mahnungen laufen weiter.",
    ),
    "Dispute resolved.": (
        "Contestation résolue.",
        "Betwisting afgehandeld.",
        "Einspruch entschieden.",
    ),
    "Invoice written off.": (
        "Facture passée en perte.",
        "Factuur afgeschreven.",
        "Rechnung abgeschrieben.",
    ),
    "Bank line applied.": (
        "Ligne bancaire appliquée.",
        "Banklijn toegepast.",
        "Bankbuchung zugeordnet.",
    ),
    "Credit set against the invoices.": (
        "Avoir imputé sur les factures.",
        "Tegoed verrekend met de facturen.",
        "Guthaben mit den Rechnungen verrechnet.",
    ),
    "Refund approved: it goes into the next refund file.": (
        "Remboursement approuvé : il figurera dans le prochain fichier de remboursements.",
        "Terugbetaling goedgekeurd: ze komt in het volgende terugbetalingsbestand.",
        "Erstattung genehmigt: sie kommt in die nächste Erstattungsdatei.",
    ),
    "Reminder held.": ("Rappel retenu.", "Herinnering tegengehouden.", "Mahnung zurückgehalten."),
    "Plan decided.": (
        "Plan décidé.",
        "Over het plan is beslist.",
        "Über den Plan ist entschieden.",
    ),
    "User added.": ("Utilisateur ajouté.", "Gebruiker toegevoegd.", "Benutzer hinzugefügt."),
    "Conversation tied to the debtor.": (
        "Conversation liée au débiteur.",
        "Gesprek gekoppeld aan de debiteur.",
        "Gespräch dem Schuldner zugeordnet.",
    ),
    "Who is this?": ("Qui est-ce ?", "Wie is dit?", "Wer ist das?"),
    "Debtor code": ("Code débiteur", "Debiteurcode", "Schuldnernummer"),
    "Tie to this debtor": (
        "Lier à ce débiteur",
        "Koppelen aan deze debiteur",
        "Diesem Schuldner zuordnen",
    ),
    "linked by staff": (
        "lié par le personnel",
        "gekoppeld door medewerker",
        "von Mitarbeiter zugeordnet",
    ),
    "User changed.": ("Utilisateur modifié.", "Gebruiker gewijzigd.", "Benutzer geändert."),
    "Not found": ("Introuvable", "Niet gevonden", "Nicht gefunden"),
    # Notes the bot and the console write on holds, shown translated
    "payment plan requested": (
        "plan de paiement demandé",
        "afbetalingsplan gevraagd",
        "Ratenplan angefragt",
    ),
    "held from tomorrow's reminders": (
        "retenu des rappels de demain",
        "tegengehouden uit de herinneringen van morgen",
        "aus den Erinnerungen von morgen zurückgehalten",
    ),
    # Tomorrow's reminders: the standard policy's levels, tones and channels
    "Reminder": ("Rappel", "Herinnering", "Erinnerung"),
    "Second reminder": ("Deuxième rappel", "Tweede herinnering", "Zweite Erinnerung"),
    "Final notice": ("Mise en demeure", "Ingebrekestelling", "Letzte Mahnung"),
    "friendly": ("aimable", "vriendelijk", "freundlich"),
    "neutral": ("neutre", "neutraal", "sachlich"),
    "firm": ("ferme", "streng", "bestimmt"),
    "email": ("e-mail", "e-mail", "E-Mail"),
    "letter": ("lettre", "brief", "Brief"),
    "telegram": ("Telegram", "Telegram", "Telegram"),
    "There is no such conversation.": (
        "Cette conversation n'existe pas.",
        "Dit gesprek bestaat niet.",
        "Dieses Gespräch gibt es nicht.",
    ),
    "There is no such debtor.": (
        "Ce débiteur n'existe pas.",
        "Deze debiteur bestaat niet.",
        "Diesen Schuldner gibt es nicht.",
    ),
    "This needs the {role} role; you are signed in as {current}.": (
        "Il faut le rôle {role} ; vous êtes connecté comme {current}.",
        "Hiervoor is de rol {role} nodig; u bent aangemeld als {current}.",
        "Dafür ist die Rolle {role} nötig; Sie sind als {current} angemeldet.",
    ),
}


def translator(language: str) -> Callable[[str], str]:
    """``_`` for one language; English, an unknown language or word: the word itself."""
    try:
        index = LANGUAGES.index(language) - 1
    except ValueError:
        index = -1
    if index < 0:
        # English is the catalogue's keys; status keys ("partially_paid") read as words.
        return lambda text: text.replace("_", " ") if text in CATALOGUE else text

    def _(text: str) -> str:
        found = CATALOGUE.get(text)
        return found[index] if found else text

    return _


def choose(cookie: str | None, accept_language: str) -> str:
    """The staff member's choice, else the first of our languages the browser asks for."""
    if cookie in LANGUAGES:
        return cookie
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
