"""Only what the sender wrote in this message: quotes, reply headers, signatures and
disclaimers removed.

    "Bonjour,\\n\\nJ'ai payé hier.\\n\\nCordialement,\\nJean Dupont\\n\\n"
    "Le lun. 9 mars 2026 à 10:12, Relance <credit@relance.example> a\\nécrit :\\n> Rappel"
        -> "Bonjour,\\n\\nJ'ai payé hier."

The steps, in order (``new_text``):

1. HTML-only mails become text (``html_to_text``): quoted containers that mail
   clients mark are dropped first (Gmail ``gmail_quote``, Thunderbird
   ``moz-cite-prefix`` + ``blockquote type=cite``, Outlook ``divRplyFwdMsg`` and
   ``appendonsend`` with everything after them, Yahoo ``yahoo_quoted``, Apple
   ``blockquote type=cite``; not Gmail's indentation blockquote), then block
   elements become lines (a ``<p>`` with margins is followed by a blank line, as
   Thunderbird's and Apple Mail's own text versions have; Word's and Outlook on
   the web's margin-less ``<p>`` are single lines).
2. The first reply header cuts the rest (``_find_cut``): "On … wrote:" and its
   fr/nl/de forms, also wrapped over two or three lines; Outlook header blocks
   ("From:/Sent:/To:/Subject:", "De :/Envoyé :/À :/Objet :", "Van:/Verzonden:/
   Aan:/Onderwerp:", "Von:/Gesendet:/An:/Betreff:") and separators
   ("-----Original Message-----", "-----Message d'origine-----", Gmail and
   Apple forward markers; GMX's block that starts with "Gesendet:").  A block
   needs an address on its From line or a Subject line, so pasted transfer
   details ("Van: BE12 …\nAan: …") stay.  An attribution followed by ``>`` lines and then more
   unquoted text is an inline or bottom-posted reply: only the quoted lines go.
3. Left-over ``>`` lines go (inline answers keep the debtor's lines).
4. A phone or client footer ("Envoyé de mon iPhone", "Get Outlook for iOS" …) or
   a "-- " signature ends the new text; then a legal disclaimer paragraph, a
   closing formula with the short name block under it ("Cordialement,\\nJean
   Dupont") and a last signature block that starts with the sender's name go.

Why our own rules: both libraries made for this were evaluated on the clients we
must handle.  ``mail-parser-reply`` (1.36) misses the Gmail French attribution
wrapped over two lines, Apple Mail's Dutch "Op … heeft … het volgende
geschreven:", and cuts a message at any line starting with "Thanks," or "Best,"
(it would lose "Thanks, I will pay on Friday").  ``quotequail`` (0.5.4) misses
Outlook's French and Dutch header blocks ("De : … Envoyé : …").  ``quotequail``
is still right on what it knows (Spanish, Portuguese, Swedish attributions,
forward markers), so it runs as a second pass after our rules.
"""

from __future__ import annotations

import re
import unicodedata

import quotequail

# -- 1. HTML -------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
# Containers that mail clients use for the quoted earlier message.
_QUOTE_XPATH = (
    # Any blockquote but the plain indentation Gmail's "Indent more" writes
    # (<blockquote style="margin:0 0 0 40px;border:none;padding:0px">).
    "//blockquote[not(contains(translate(@style, ' ', ''), 'border:none')) or @type or @class]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote_container ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' protonmail_quote ')]"
    " | //*[@id='mail-editor-reference-message-container']"
    # Signatures the clients mark as such (Gmail, Thunderbird, Outlook on the web).
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-signature ')]"
    " | //*[@id='Signature'] | //*[@id='x_Signature']"
    # Roundcube, Outlook mobile, Zimbra.
    " | //*[@id='_rc_sig'] | //*[@id='ms-outlook-mobile-signature']"
    " | //*[@id='x_ms-outlook-mobile-signature'] | //*[@data-marker='__SIG_PRE__']"
)
# Markers after which everything in the document is the earlier message (Outlook).
_CUT_AFTER_XPATH = (
    "//*[@id='divRplyFwdMsg'] | //*[@id='appendonsend'] | //*[@id='x_divRplyFwdMsg']"
    " | //*[@id='x_appendonsend'] | //*[@name='_MailOriginal']"
)


def html_to_text(html: str) -> str:
    """The visible new text of an HTML mail, one line per block, quotes dropped."""
    root = _parse_html(html)
    if root is None:
        return ""
    _drop_quotes(root)
    parts: list[str] = []
    _walk(root, parts)
    return "\n".join(line.strip(" ") for line in "".join(parts).split("\n"))


def quoted_only_images(html: str) -> set[str]:
    """Content-IDs of inline images shown only in the quoted earlier message or in a
    marked signature (our own reminder's logo, the sender's signature logo)."""
    root = _parse_html(html)
    if root is None:
        return set()
    every = _cids(root)
    if not every:
        return set()
    _drop_quotes(root)
    return every - _cids(root)


def _cids(root: object) -> set[str]:
    sources = root.xpath("//img/@src")  # type: ignore[attr-defined]
    return {
        str(src)[4:].strip().strip("<>") for src in sources if str(src).lower().startswith("cid:")
    }


def _parse_html(html: str) -> object | None:
    import lxml.html
    from lxml import etree

    # lxml refuses text that still declares a byte encoding; the text is decoded already.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _drop_quotes(root: object) -> None:
    _mark_paragraph_gaps(root)
    for bad in root.xpath("//script | //style | //head | //title"):  # type: ignore[attr-defined]
        _drop(bad)
    markers = root.xpath(_CUT_AFTER_XPATH)  # type: ignore[attr-defined]
    if markers:
        _drop_from(markers[0])
    for quoted in root.xpath(_QUOTE_XPATH):  # type: ignore[attr-defined]
        if quoted.getparent() is not None:
            _drop(quoted)


_GAP = "data-relance-gap"
# A style sheet that removes the paragraph margins (Outlook on the web: "P {margin-top:0;…}").
_COMPACT_P = re.compile(
    r"(?<![\w.#:-])p\s*(?:,[^{}]*)?\{[^}]*margin(?:-top|-bottom)?\s*:\s*0", re.I
)
_ZERO_MARGIN = re.compile(r"margin(?:-top|-bottom)?\s*:\s*0(?![.\d]*[1-9])", re.I)


def _mark_paragraph_gaps(root: object) -> None:
    """Mark the ``<p>`` elements a browser shows with a blank line under them.

    Thunderbird and Apple Mail write one ``<p>`` per paragraph (their own text
    version has a blank line between them); Word (``MsoNormal``) and Outlook on the
    web zero the margins and write one ``<p>`` per line.
    """
    sheets = " ".join(s.text or "" for s in root.xpath("//style"))  # type: ignore[attr-defined]
    if _COMPACT_P.search(sheets):
        return
    for p in root.xpath("//p"):  # type: ignore[attr-defined]
        if "mso" in (p.get("class") or "").lower() or _ZERO_MARGIN.search(p.get("style") or ""):
            continue
        p.set(_GAP, "1")


def _drop(element: object) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    element.drop_tree()  # type: ignore[attr-defined]


def _drop_from(marker: object) -> None:
    """Remove ``marker``, its following siblings, and those of every ancestor."""
    node = marker
    while node is not None and node.getparent() is not None:  # type: ignore[attr-defined]
        parent = node.getparent()  # type: ignore[attr-defined]
        for sibling in list(node.itersiblings()):  # type: ignore[attr-defined]
            parent.remove(sibling)
        node.tail = None  # type: ignore[attr-defined]
        if node is marker:
            parent.remove(node)
        node = parent if parent.tag != "body" else None


def _walk(element: object, out: list[str]) -> None:
    tag = element.tag  # type: ignore[attr-defined]
    if not isinstance(tag, str):  # comments, processing instructions
        tail = element.tail  # type: ignore[attr-defined]
        if tail:
            out.append(_spaces(tail))
        return
    tag = tag.lower()
    if tag == "br":
        out.append("\n")
    elif tag in _BLOCK_TAGS:
        _newline(out)
    elif tag in ("td", "th"):
        out.append(" ")
    text = element.text  # type: ignore[attr-defined]
    if text and tag not in ("style", "script"):
        out.append(text if tag == "pre" else _spaces(text))
    for child in element:  # type: ignore[attr-defined]
        _walk(child, out)
    if tag in _BLOCK_TAGS:
        _newline(out)
        if element.get(_GAP) and out and out[-1] == "\n":  # type: ignore[attr-defined]
            out.append("\n")
    tail = element.tail  # type: ignore[attr-defined]
    if tail:
        out.append(_spaces(tail))


def _newline(out: list[str]) -> None:
    # Whitespace between two blocks is source formatting, not a line of its own.
    while out and out[-1] != "\n" and not out[-1].strip(" "):
        out.pop()
    if out and not out[-1].endswith("\n"):
        out.append("\n")


def _spaces(text: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text)


# -- normalising ---------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def normalise_text(text: str) -> str:
    """Unix line ends, no trailing spaces, no more than one blank line, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


# -- 2. reply headers ----------------------------------------------------------------------------

_WROTE = r"(?:wrote|a\s+écrit|a\s+ecrit|schreef|schrieb|geschreven|het\s+volgende\s+geschreven)"
# The attributions that say where they begin: "On …", "Le …", "Op …", "Am …".
_OPENING = [
    re.compile(r"^On\s.{4,}\s(?:wrote|writes)\s?:$", re.I),
    re.compile(r"^Le\s.{4,}\s(?:a\s+écrit|a\s+ecrit|écrivait)\s?:$", re.I),
    re.compile(r"^Op\s.{4,}\s(?:schreef|heeft\s.+\sgeschreven)\s?.{0,60}:$", re.I),
    re.compile(r"^Am\s.{4,}\s(?:schrieb|hat\s.+\sgeschrieben)\s?.{0,60}:$", re.I),
]
_ATTRIBUTION = [
    *_OPENING,
    # Thunderbird and older clients: "Relance <credit@x> a écrit :", "2026-03-09 10:12 GMT+01:00 X:"
    re.compile(r"^.{0,120}(?:@|\d{1,2}[:h]\d{2}).{0,120}\s" + _WROTE + r"\s?:$", re.I),
    re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s.{0,80}<[^>]+@[^>]+>\s?:?$"),
]
_SEPARATORS = [
    re.compile(
        r"^[-_*=\s]{2,}\s*(?:Original\s+Message|Message\s+d'origine|Message\s+original|"
        r"Oorspronkelijk\s+bericht|Origineel\s+bericht|Ursprüngliche\s+Nachricht|"
        r"Original-?\s?Nachricht|"
        r"Originalnachricht|Forwarded\s+message|Message\s+transféré|Doorgestuurd\s+bericht|"
        r"Weitergeleitete\s+Nachricht|Reply\s+message|Réponse\s+au\s+message|"
        r"Mail\s+original|Ursprüngliche\s+Mail|Originele\s+e-?mail|Oorspronkelijke\s+e-?mail|"
        r"Message\s+d'origine|Original\s+Mail)\s*[-_*=\s]{2,}$",
        re.I,
    ),
    re.compile(
        r"^(?:Begin\s+forwarded\s+message|Début\s+du\s+message\s+réexpédié|"
        r"Début\s+du\s+message\s+transféré|Begin\s+doorgestuurd\s+bericht|"
        r"Anfang\s+der\s+weitergeleiteten\s+(?:Nachricht|E-Mail))\s?:$",
        re.I,
    ),
    re.compile(r"^_{20,}$"),
    # IBM Notes "-----Relance <credit@x> wrote: -----", Zoho "---- On … wrote ----"
    re.compile(r"^-{2,}\s*.{1,100}\s" + _WROTE + r"\s?:?\s*-{2,}$", re.I),
]
_HEADER_NAMES = (
    "from|sent|to|cc|bcc|date|subject|reply-to|"
    "de|envoyé|envoye|à|a|cc|cci|date|objet|répondre à|"
    "van|verzonden|aan|cc|datum|onderwerp|"
    "von|gesendet|an|cc|datum|betreff|antwort an"
)
_HEADER_LINE = re.compile(r"^[*>\s]*(" + _HEADER_NAMES + r")\s?[*]?\s?:[*]?(\s|$)", re.I)
_FROM_LINE = re.compile(r"^[*\s]*(from|de|van|von)\s?[*]?\s?:[*]?\s*\S", re.I)


def _joined(lines: list[str], start: int, count: int) -> str:
    return " ".join(line.strip() for line in lines[start : start + count]).strip()


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines an attribution starting at line ``i`` spans (0 if none).

    A client may wrap an attribution over two or three lines.  The lines before
    it are the reply, however short and whatever they end with ("Hello", then
    "On 22 Aug 2015, at 19:21, Adam <adam@x> wrote:" on the next line joins into
    something an attribution pattern matches too): a window of lines whose
    attribution really starts on a later line of it, or continues into a quoted
    line, does not start here.
    """
    if not _starts_attribution(lines, i):
        return 0
    for count in (1, 2, 3):
        if i + count > len(lines):
            break
        if count > 1 and (
            not lines[i + count - 1].strip() or lines[i + count - 1].lstrip().startswith(">")
        ):
            break
        candidate = _joined(lines, i, count)
        if len(candidate) > 300:
            break
        if _is_attribution(candidate):
            # Where the window's own start is only matched by the patterns that
            # take any line ("… <x@y> wrote:"), an attribution of its own on a
            # later line is where it starts; where it opens as one ("On …",
            # "Le …"), a later line that merely ends it ("x@y> a écrit :") does not.
            patterns = _ATTRIBUTION if not _is_attribution(candidate, _OPENING) else _OPENING
            later = any(
                _starts_attribution(lines, j)
                and any(
                    _is_attribution(_joined(lines, j, n), patterns)
                    for n in range(1, i + count - j + 1)
                )
                for j in range(i + 1, i + count)
            )
            return 0 if later else count
    return 0


def _starts_attribution(lines: list[str], i: int) -> bool:
    return bool(lines[i].strip()) and not lines[i].lstrip().startswith(">")


def _is_attribution(text: str, patterns: list[re.Pattern[str]] | None = None) -> bool:
    return any(p.match(text) for p in (_ATTRIBUTION if patterns is None else patterns))


_SENT_LINE = re.compile(
    r"^[*\s]*(sent|date|envoyé|envoye|verzonden|datum|gesendet)\s?[*]?\s?:[*]?\s*\S", re.I
)


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style block: a From line and at least one more header line just under it.

    GMX and WEB.DE put the date first ("Gesendet: …\nVon: …\nAn: …"): a date line
    directly followed by header lines that include a From line starts a block too.
    """
    if _SENT_LINE.match(lines[i]):
        block = lines[i + 1 : i + 6]
        for line in block:
            if _FROM_LINE.match(line):
                return bool(re.search(r"@|<|\[mailto:", line)) or any(
                    _SUBJECT_LINE.match(x) for x in block
                )
            if not _HEADER_LINE.match(line):
                return False
        return False
    if not _FROM_LINE.match(lines[i]):
        return False
    # A pasted bank transfer ("Van: BE12 …\nAan: BE71 …\nBedrag: …") is no mail header:
    # the From line must name an address, or a Subject line must follow.
    following = [line for line in lines[i + 1 : i + 8] if line.strip()]
    has_address = bool(re.search(r"@|<|\[mailto:", lines[i]))
    # Long To and Cc lists wrap: look further down for the Subject line.
    if not has_address and not any(_SUBJECT_LINE.match(line) for line in lines[i + 1 : i + 20]):
        return False
    # A wrapped long "To:" line continues the previous header; it is simply skipped.
    return any(_HEADER_LINE.match(line) for line in following)


_SUBJECT_LINE = re.compile(r"^[*>\s]*(subject|objet|onderwerp|betreff)\s?[*]?\s?:", re.I)


def _find_cut(lines: list[str]) -> tuple[int, int] | None:
    """(line where the earlier message starts, attribution length or 0 for a hard cut)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if any(p.match(stripped) for p in _SEPARATORS):
            return i, 0
        if _header_block_at(lines, i):
            return i, 0
        span = _attribution_at(lines, i)
        if span and _plausible_attribution(lines, i, span):
            return i, span
    return None


_ATTRIBUTION_DETAIL = re.compile(r"@|<|\b\d{1,2}[:h.]\d{2}\b")


def _plausible_attribution(lines: list[str], i: int, span: int) -> bool:
    """An attribution is followed by ">" lines, or names an address or a time.

    "Op 12 maart heb ik betaald, zoals ik al schreef:" followed by the sender's own
    words is a sentence, not the start of a quote.
    """
    below = next((line for line in lines[i + span :] if line.strip()), "")
    if below.lstrip().startswith(">"):
        return True
    return bool(_ATTRIBUTION_DETAIL.search(_joined(lines, i, span)))


def _wrapped_quote(lines: list[str], j: int) -> bool:
    """Line ``j`` is the end of a quoted line the client wrapped without its ">":
    right under a quoted line as long as a client wraps them (60 characters or
    more) that stops mid-sentence, it goes on in lower case, and a quoted line
    follows.  An inline answer starts a sentence, or answers a short line
    ("> Can you confirm the amount" / "yes 400 euros").
    """
    above = lines[j - 1].strip() if j > 0 else ""
    if not above.startswith(">") or re.search(r"[.!?:]\W*$", above):
        return False
    if len(above.lstrip("> ")) < 60:
        return False
    if not re.match(r"[a-zà-ÿ]", lines[j].strip()):
        return False
    # Between two quoted lines: a last line in lower case under the quote may well be
    # the debtor's own bottom-posted answer ("ok je paie demain").
    below = lines[j + 1].strip() if j + 1 < len(lines) else ""
    return below.startswith(">")


# Helpdesks (Zendesk, Freshdesk …) put a marker over the ticket's history; in
# their own notifications it is the first line, with the newest comment under it.
_REPLY_ABOVE = re.compile(
    r"^\s*#{2,}-?\s*(?:please\s+type\s+your\s+reply\s+above\s+this\s+line|"
    r"bitte\s+geben\s+sie\s+ihre\s+antwort\s+(?:über|oberhalb)\s+dieser\s+zeile\s+ein|"
    r"(?:veuillez\s+)?(?:saisir|saisissez|tapez)\s+votre\s+réponse\s+au-dessus\s+de\s+cette"
    r"\s+ligne|typ\s+uw\s+(?:antwoord|reactie)\s+boven\s+deze\s+(?:regel|lijn))"
    r"\s*-?#{2,}\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*-{20,}\s*$")
_TICKET_DATE = re.compile(
    r"^\s*(?:\w{3,9}\.?\s+\d{1,2},\s+\d{4}|\d{1,2}\.?\s+\w{3,9}\.?\s+\d{4}|"
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}),?\s.{0,30}\d{1,2}[:h.]\d{2}.{0,20}$"
)


def _helpdesk_comment(lines: list[str]) -> list[str] | None:
    """The text to keep of a helpdesk mail, or None when there is no marker.

    Typed above the marker: that text.  The marker first (the helpdesk's own
    notification, e.g. the debtor's support desk answering from Zendesk): the
    newest comment, between the first two rules of dashes, without its author
    and date lines; the older comments under it are the ticket's history."""
    at = next((i for i, line in enumerate(lines) if _REPLY_ABOVE.match(line)), None)
    if at is None:
        return None
    if any(line.strip() for line in lines[:at]):
        return lines[:at]
    rules = [i for i in range(at + 1, len(lines)) if _RULE.match(lines[i])]
    if not rules:
        return lines[at + 1 :]
    end = rules[1] if len(rules) > 1 else len(lines)
    comment = lines[rules[0] + 1 : end]
    filled = [i for i, line in enumerate(comment) if line.strip()]
    # "Marc Peeters (Acme Logistics)" then "Mar 3, 2026, 09:14 GMT+1"
    if len(filled) >= 3 and _TICKET_DATE.match(comment[filled[1]]):
        comment = comment[filled[1] + 1 :]
    return comment


def strip_quotes(text: str) -> str:
    lines = text.split("\n")
    if (comment := _helpdesk_comment(lines)) is not None:
        lines = comment
    while True:
        found = _find_cut(lines)
        if found is None:
            break
        start, span = found
        if span == 0:
            lines = lines[:start]
            break
        # An attribution: what follows is ">" lines; if unquoted text comes after
        # them it is a bottom-posted or inline answer and stays.
        j = start + span
        while j < len(lines) and (
            not lines[j].strip() or lines[j].lstrip().startswith(">") or _wrapped_quote(lines, j)
        ):
            j += 1
        rest = lines[j:]
        quoted = [line for line in lines[start + span : j] if line.strip()]
        if quoted and rest and _has_content(rest):
            lines = lines[:start] + rest
            continue
        lines = lines[:start]
        break
    kept = [
        line
        for j, line in enumerate(lines)
        if not line.lstrip().startswith(">") and not _wrapped_quote(lines, j)
    ]
    kept = _before_pasted_letter(kept)
    text = "\n".join(kept)
    # Second pass: quotequail knows more languages' attributions and forward markers.
    parts = quotequail.quote(text, limit=100_000, quote_intro_line=True)
    if not parts or not parts[0][0] or len(parts) < 2:
        return text
    rest = parts[1][1].split("\n")
    intro = next((k for k, line in enumerate(rest) if line.strip()), None)
    if (
        intro is not None
        and not re.match(r"^\s*[-_=*]{3,}", rest[intro])  # a forward marker or rule
        and not _plausible_attribution(rest, intro, 1)
    ):
        return text  # "… as my accountant wrote:" and the sender's own words under it
    return str(parts[0][1])


# A line that only greets, as a letter opens: "Bonjour,", "Dear customer,",
# "Geachte klant,", "Sehr geehrte Damen und Herren,", "Madame, Monsieur,".
_GREETING_LINE = re.compile(
    r"^\s*(?:bonjour|bonsoir|madame|monsieur|madame,\s+monsieur|chère?\s+\w+|hello|hi|dear"
    r"(?:\s+[\w.]+){0,3}|geachte(?:\s+[\w.]+){0,3}|beste(?:\s+[\w.]+){0,2}|hallo|goedemorgen"
    r"|goeiedag|goedendag|sehr\s+geehrte(?:\s+[\w.]+){0,4}|guten\s+tag|liebe[rs]?(?:\s+\w+)?)"
    r"\s*[,!:]?\s*$",
    re.I,
)


def _before_pasted_letter(lines: list[str]) -> list[str]:
    """Cut a whole earlier letter pasted under the sender's own, with no quote mark
    nor attribution: a closing formula, at most four short lines (the name, a
    phone), a blank line, then a line that only greets, with text under it."""
    for i, line in enumerate(lines):
        if not _CLOSINGS.match(line.strip()) or not _has_words(lines[:i]):
            continue
        j = i + 1
        while j < len(lines) and j <= i + 4 and lines[j].strip() and len(lines[j]) <= 60:
            j += 1
        if j >= len(lines) or lines[j].strip():
            continue
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and _GREETING_LINE.match(lines[j]) and _has_words(lines[j + 1 :]):
            return lines[:j]
    return lines


def _has_words(lines: list[str]) -> bool:
    return any(re.search(r"\w{2,}", line) for line in lines)


def _has_content(lines: list[str]) -> bool:
    text = strip_footers("\n".join(lines)).strip()
    return bool(text)


# -- 4. signatures, phone footers, disclaimers ---------------------------------------------------

_DEVICE = (
    r"iPhone|iPad|iPod|Galaxy|Samsung|Android|smartphone|mobile|Huawei|Xiaomi|Pixel|"
    r"BlackBerry|OnePlus|Oppo|Fairphone|Sony|Nokia|Motorola|tablette|tablet|téléphone|telefoon|"
    r"GSM|Handy|Mobiltelefon|Mobilgerät|appareil|apparaat|Gerät|device|"
    r"Wiko|HTC|LG|Lenovo|Honor|Realme|Vivo|ZTE|Alcatel|Doro|Crosscall|Asus"
)
_APPS = (
    r"my|mon|ma|mijn|meinem|meiner|Yahoo|Mail|Outlook|Courrier|Proton|iCloud|AOL|Gmail|"
    r"BlueMail|Spark|Samsung|Huawei|Xiaomi|Android|iOS|Windows|Telenet|Proximus|Orange|GMX|"
    r"WEB\.DE|Thunderbird|K-9|Airmail|Edison|Zoho|Tutanota|Infomaniak"
)
_FOOTERS = [
    # "Envoyé de mon iPhone", "Sent from my Galaxy", "Verstuurd vanaf mijn iPhone",
    # "Von meinem iPhone gesendet", "Envoyé depuis mon appareil Galaxy",
    # "Envoyé de Yahoo Mail pour Android", "Sent with Proton Mail secure email".
    re.compile(
        r"^(?:Sent|Envoy[ée]|Verstuurd|Verzonden|Gesendet|Gestuurd)\s+"
        r"(?:from|with|on|using|via|de|depuis|à\s+partir\s+de|a\s+partir\s+de|avec|par|"
        r"vanaf|vanuit|van|met|via|von|mit|vom|über|auf)\s+"
        r"(?:de\s+|het\s+|der\s+|dem\s+|the\s+|l'|le\s+|la\s+)?(?:" + _APPS + r")\b"
        # ... and names a device or a mail app ("Sent from my office" is a sentence).
        r"(?=.{0,60}\b(?:"
        + _DEVICE
        + "|"
        + _APPS.replace("my|mon|ma|mijn|meinem|meiner|", "")
        + r"|iPhone|iPad|Galaxy|Pixel|app)\b).{0,80}$",
        re.I,
    ),
    re.compile(
        r"^(?:Von\s+meinem|Get\s+(?:Outlook|BlueMail|Spark|Edison\s+Mail)\s+for|"
        r"Obtenir\s+Outlook\s+pour|"
        r"Outlook\s+voor\s+\w+\s+downloaden|Download\s+Outlook\s+voor|"
        r"Outlook\s+für\s+\w+\s+(?:beziehen|herunterladen)|Télécharger\s+Outlook\s+pour)"
        r"\b.{0,80}$",
        re.I,
    ),
    re.compile(r"^.{0,40}\b(?:" + _DEVICE + r")\b.{0,20}(?:gesendet|verzonden|envoyé)\.?$", re.I),
    # Mail apps named alone: "Verzonden met BlueMail", "Sent with Spark".
    re.compile(
        r"^(?:Sent|Envoy[ée]|Verzonden|Verstuurd|Gesendet)\s+(?:with|from|via|using|avec|de|"
        r"depuis|met|vanaf|mit|von)\s+(?:BlueMail|Spark|Airmail|K-9\s+Mail|Edison\s+Mail|"
        r"FairEmail|Canary\s+Mail|Newton\s+Mail|Tuta(?:nota)?|TypeApp|Nine|Aqua\s+Mail)\b.{0,60}$",
        re.I,
    ),
]
_SIG_DASHES = re.compile(r"^\s*(?:-- ?|[-—–_=~*]{2,}|—)\s*$")
# Closing formulas that end a message; only these, never "Merci"/"Thanks" (content).
_CLOSINGS = re.compile(
    r"^(?:"
    # Longer formulas first: "Danke für Ihr Verständnis" before "Danke".
    r"(?:cordiales\s+)?salutations\s+cordiales|cordiales\s+salutations|"
    r"veuillez\s+agréer\b.{0,120}\bsalutations(?:\s+distinguées)?|"
    r"en\s+vous\s+remerciant(?:\s+(?:par\s+avance|d['’]avance|de\s+votre\s+compréhension))?|"
    r"merci\s+(?:pour|de)\s+votre\s+(?:compréhension|patience|collaboration)|"
    r"met\s+de\s+meeste\s+hoogachting|hartelijk\s+dank|"
    r"(?:alvast\s+)?bedankt\s+voor\s+(?:uw|je)\s+(?:begrip|geduld|medewerking)|"
    r"mit\s+(?:freundlichen|besten|herzlichen|lieben|netten|kollegialen|sonnigen)\s+grü(?:ß|ss)en|"
    r"(?:mit\s+)?freundliche[mn]?\s+gru(?:ß|ss)|"
    r"(?:vielen\s+)?danke?\s+für\s+ihr\s+verständnis|"
    r"all\s+the\s+best|take\s+care|thank\s+you\s+for\s+your\s+(?:understanding|patience)|"
    r"(?:bien\s+|très\s+|tres\s+)?cordialement|bien\s+à\s+(?:vous|toi)|bien\s+a\s+vous|"
    r"(?:mes\s+|nos\s+)?(?:sincères\s+|meilleures\s+|bien\s+)?salutations(?:\s+distinguées)?|"
    r"(?:bonne|belle)\s+(?:journée|journee|soirée|fin\s+de\s+journée|semaine)|amicalement|"
    r"bàv|bav|slts|cdlt|cdt|à\s+bientôt|a\s+bientôt|a\s+bientot|(?:bien\s+)?amicalement|"
    r"(?:met\s+)?(?:vriendelijke|hartelijke|beste|vr\.?)\s+groet(?:en)?|mvg|groet(?:en|jes)?|"
    r"beste\s+wensen|hoogachtend|"
    r"mit\s+freundlichen\s+grü(?:ß|ss)en|freundliche\s+grü(?:ß|ss)e|mfg|lg|vg|"
    r"(?:viele|beste|liebe|herzliche|schöne|sonnige)\s+grü(?:ß|ss)e|grü(?:ß|ss)e|gruß|gruss|"
    r"hochachtungsvoll|"
    r"(?:with\s+)?(?:kind|kindest|best|warm|warmest|many)\s+regards|regards|best\s+wishes|"
    r"yours\s+(?:sincerely|faithfully|truly)|"
    r"sincerely|cheers|best|"
    r"(?:many\s+)?thanks(?:\s+(?:again|in\s+advance))?|thank\s+you(?:\s+in\s+advance)?|"
    r"merci(?:\s+(?:d'avance|d’avance|beaucoup|bien))?|"
    r"(?:alvast\s+)?bedankt|dank\s+(?:u|je)(?:\s+wel)?|"
    r"(?:vielen\s+)?dank(?:\s+im\s+voraus)?|danke(?:\s+schön)?)"
    r"(?P<rest>[,.!\s].*)?$",
    re.I,
)
# What may follow a closing on its line: a name ("Gruß M. Weber", "Mvg, Pieter").
_NAME_AFTER_CLOSING = re.compile(r"^[\s,.!\-–]*(?:[A-ZÀ-Þ][\w'’\-]*\.?\s*){0,4}$")
_DISCLAIMER_START = re.compile(
    r"^(?:\W{0,3})(?:disclaimer|avertissement|avis\s+de\s+confidentialit|confidentiality\s+notice|"
    r"confidential|confidentialit|vertrouwelijk|vertraulich|haftungsausschluss|"
    r"this\s+(?:e-?mail|message|communication)\b.{0,80}\b(?:confidential|intended)|"
    r"the\s+information\s+(?:contained|in\s+this)|"
    r"ce\s+(?:message|courriel|e-?mail|mail)\b.{0,80}\b(?:confidenti|destin|strictement)|"
    r"les\s+informations\s+contenues|le\s+contenu\s+de\s+ce|"
    r"dit\s+(?:bericht|e-?mailbericht|e-?mail|mailbericht)\b.{0,80}\b(?:vertrouwelijk|uitsluitend|bestemd)|"
    r"de\s+informatie\s+(?:in|verzonden)|deze\s+e-?mail\b.{0,80}\b(?:vertrouwelijk|bestemd|uitsluitend)|"
    r"diese\s+(?:e-?mail|nachricht)\b.{0,80}\b(?:vertraulich|bestimmt|enthält)|"
    r"(?:please\s+)?(?:consider|think\s+of)\s+the\s+environment|"
    r"(?:pensez|songez)\s+à\s+l'environnement|respectez\s+l'environnement|"
    r"denk\s+aan\s+het\s+milieu|bitte\s+denken\s+sie\s+an\s+die\s+umwelt|"
    r"p\s+please\s+consider|"
    r"(?:important|legal)\s+notice|"
    r"this\s+(?:e-?mail|message)\s+has\s+been\s+scanned)",
    re.I,
)


def strip_footers(text: str, sender_name: str = "") -> str:
    """Remove phone footers, a "-- " signature, a trailing disclaimer and a closing block,
    and a last line that is only the sender's name ("Claire", "Peter Jones")."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        # "-- " delimiter: everything under it is the signature.  A longer rule
        # ("—————", "______") only when short contact lines follow (tables use rules too).
        if i > 0 and _SIG_DASHES.match(line):
            rest = [x for x in lines[i + 1 :] if x.strip()]
            if line.strip() in ("--", "-- ") or (
                len(rest) <= 8 and all(_looks_like_signature_line(x) for x in rest)
            ):
                lines = lines[:i]
                break
        # A phone or client footer ends what the sender typed; under it is the quote.
        if any(p.match(line.strip()) for p in _FOOTERS):
            lines = lines[:i]
            break
    lines = _strip_disclaimer(lines)
    lines = _strip_closing(lines)
    lines = _strip_name(lines, sender_name)
    return "\n".join(lines)


def _strip_name(lines: list[str], sender_name: str) -> list[str]:
    """Drop a last paragraph that starts with the sender's own name ("Claire", "Jan
    Peeters\nZaakvoerder\n+32 …") when the rest of it is a signature block."""
    words = {w.lower() for w in re.findall(r"[\w'’-]+", sender_name) if len(w) > 1}
    spans = _paragraphs(lines)
    if not spans:
        return lines
    start, end = spans[-1]
    if not words:  # no display name: only a signature block with contact lines goes
        return lines[:start] if start > 0 and _is_contact_block(lines[start:end]) else lines
    if len(spans) == 1 and start == 0:
        # One paragraph: only its last line can be the name.
        if end - start < 2 or not _is_name(lines[end - 1], words):
            return lines
        return lines[: end - 1]
    block = lines[start:end]
    if (
        _is_name(block[0], words)
        and len(block) <= 8
        and all(_looks_like_signature_line(line) for line in block[1:])
    ):
        return lines[:start]
    if _is_name(block[-1], words) and end - start >= 2:
        return lines[: end - 1]
    if _is_contact_block(block):
        return lines[:start]
    return lines


_PERSON = re.compile(r"^(?:[A-ZÀ-Þ][\w'’.-]*\s+){1,3}[A-ZÀ-Þ][\w'’.-]*$")
# Contact details, not dates or amounts ("100 EUR op 15/01/2026" is a payment plan).
_CONTACT = re.compile(
    r"@|\+\d{2}\s?\d|www\.|https?://|^[TMF]\s*[.:]?\s*\+?\d|"
    r"\b(?:tel|tél|fax|gsm|mob|mobile|phone|vat|btw|tva|ust-?id)\b",
    re.I,
)


def _is_contact_block(block: list[str]) -> bool:
    """A last paragraph "Sarah Jacobs\nBoekhouding\nT +32 9 …" signed with a person's
    name other than the From display name (a company or team mailbox)."""
    return (
        2 <= len(block) <= 8
        and bool(_PERSON.match(block[0].strip()))
        and all(_looks_like_signature_line(line) for line in block[1:])
        and any(_CONTACT.search(line) for line in block[1:])
    )


def _is_name(line: str, words: set[str]) -> bool:
    found = re.findall(r"[\w'’.-]+", line.strip().rstrip("."))
    return (
        bool(found)
        and len(found) <= 4
        and all(w.lower().rstrip(".") in words or len(w.rstrip(".")) <= 1 for w in found)
    )


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            spans.append((start, i))
            start = None
    return spans


_CONFIDENTIAL = re.compile(
    r"confidenti|vertrouwelijk|vertraulich|privileged|geheimhaltung|secret\s+professionnel", re.I
)
_ADDRESSEE = re.compile(
    r"intended|addressee|recipient|destinataire|destiné|geadresseerde|bestemd|ontvanger|"
    r"empfänger|adressat|bestimmt|erreur|error|vergissing|irrtümlich|fehlerhaft",
    re.I,
)


# A legal footer is impersonal and says nothing about a payment.
_PERSONAL = re.compile(
    r"(?<![\w'’])(?:i|i'll|i’ll|i'm|i’m|i've|my|je|j'|j’|mon|ma|mes|ik|mijn|ich|mein|meine|"
    r"paid|payé|payée|paierai|betaald|betaal|bezahlt|zahle|virement|overschrijving|überwiesen)"
    r"(?![\w'’])",
    re.I,
)


def _is_disclaimer(paragraph: str) -> bool:
    if len(paragraph) < 45 or "?" in paragraph:
        return False  # short or asking something: the sender's own words
    if _PERSONAL.search(paragraph):
        return False  # "… confidential data of another customer, I will not pay …"
    if _DISCLAIMER_START.match(paragraph):
        return True
    return bool(_CONFIDENTIAL.search(paragraph) and _ADDRESSEE.search(paragraph))


def _strip_disclaimer(lines: list[str]) -> list[str]:
    """Cut from the first legal-footer paragraph (never the first paragraph) to the end."""
    spans = _paragraphs(lines)
    for index, (start, end) in enumerate(spans):
        if index == 0:
            continue
        if _is_disclaimer(_joined(lines, start, end - start)):
            return lines[:start]
    return lines


def _strip_closing(lines: list[str]) -> list[str]:
    """Cut "Cordialement,\\nJean Dupont\\nComptabilité\\n+32 …" when it ends the message.

    Safe only when something came before the closing and what follows it is a
    short block of name/contact lines, not sentences.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    for i in content:
        closing = _CLOSINGS.match(lines[i].strip())
        if not closing or not _closing_rest_ok(closing.group("rest") or ""):
            continue
        before = [j for j in content if j < i]
        after = [j for j in content if j > i]
        if not any(_has_substance(lines[j]) for j in before) or len(after) > 10:
            continue
        if all(_looks_like_signature_line(lines[j]) for j in after):
            return lines[:i]
    return lines


def _closing_rest_ok(rest: str) -> bool:
    """After a closing on its line: nothing, a name, or a closing in another language."""
    rest = "".join(c for c in rest if not unicodedata.category(c).startswith("S"))  # emoji
    if _NAME_AFTER_CLOSING.match(rest):
        return True
    # "Met vriendelijke groeten / Meilleures salutations", "Danke und Grüße",
    # "Thanks and kind regards", "Merci et bonne journée".
    other = re.match(r"^\s*(?:[/|–-]|,?\s*(?:and|&|et|en|und)\b)\s*(.+)$", rest, re.I)
    return bool(other and _CLOSINGS.match(other.group(1).strip()))


def _has_substance(line: str) -> bool:
    """More than a salutation ("Bonjour Madame,", "Hallo,"): the closing may go."""
    stripped = line.strip()
    return not stripped.endswith(",") or len(stripped.split()) > 5


# Pronouns and payment verbs: a short line with one of them is a sentence, not a
# name, title or company line.
_SENTENCE_WORDS = re.compile(
    r"(?<![\w'’])(?:i|i'll|i’ll|i'm|i’m|we|we'll|we’ll|you|je|j'|j’|nous|vous|ik|wij|jij|"
    r"ich|wir|sie|pay|paid|paying|payment|payons|paie|paierai|payé|payée|réglé|virement|"
    r"suivra|betaal|betaald|betaling|betalen|volgt|zahle|zahlung|bezahlt|überweisung|folgt|"
    r"tomorrow|today|friday|monday|demain|aujourd'hui|vendredi|morgen|vandaag|vrijdag|heute|"
    r"freitag)(?![\w'’])",
    re.I,
)


def _looks_like_signature_line(line: str) -> bool:
    """Name, title, company, address, phone: not a sentence."""
    stripped = line.strip()
    if len(stripped) > 100:
        return False
    if "|" in stripped or re.search(
        r"@|\+?\d[\d ./()-]{6,}\d|www\.|https?://|\b(?:tel|tél|fax|gsm|mob|mobile|phone|"
        r"vat|btw|tva|ust|iban|bic|hrb|rpr|rpm|kbo|bce)\b",
        stripped,
        re.I,
    ):
        return True
    if _SENTENCE_WORDS.search(stripped):
        return False  # "I'll pay Friday", "Je paie vendredi": the sender still writing
    words = stripped.split()
    if len(words) > 3 and stripped[-1:] in ".?!:":
        return False  # a sentence
    return len(words) <= 6 or (len(words) <= 10 and any(c.isdigit() for c in stripped))


def new_text(plain: str | None, html: str | None = None, sender_name: str = "") -> str:
    """The new text of a message body: plain text preferred, HTML converted otherwise."""
    text = plain if plain and plain.strip() else html_to_text(html or "")
    text = normalise_text(text)
    text = strip_quotes(text)
    text = strip_footers(text, sender_name)
    return normalise_text(text)
