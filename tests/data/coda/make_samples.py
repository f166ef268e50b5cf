"""Writes the CODA edge-case samples of tests/data/coda (run once)."""

from decimal import Decimal


def put(rec, start, text):
    rec[start : start + len(text)] = list(text)


def blank():
    return [" "] * 128


def amt(value):
    v = Decimal(value)
    return ("1" if v < 0 else "0") + f"{int(abs(v) * 1000):015d}"


def header(date="100326", version="2", name="RELANCE DEMO SRL"):
    r = blank()
    put(r, 0, "00000")
    put(r, 5, date)
    put(r, 11, "539")
    put(r, 14, "05")
    put(r, 24, "0000000001")
    put(r, 34, name.ljust(26))
    put(r, 60, "GKCCBEBB   ")
    put(r, 71, "00403170701")
    put(r, 127, version)
    return "".join(r)


def old_balance(structure, account, currency, balance, date="090326", seq="068"):
    r = blank()
    put(r, 0, "1")
    put(r, 1, structure)
    put(r, 2, seq)
    if structure == "0":
        put(r, 5, account)
        put(r, 18, currency)
    else:
        put(r, 5, account.ljust(34))
        put(r, 39, currency)
    put(r, 42, amt(balance))
    put(r, 58, date)
    put(r, 64, "RELANCE DEMO SRL".ljust(26))
    put(r, 125, seq)
    return "".join(r)


def mv21(
    seq,
    detail,
    ref,
    amount,
    code,
    comm,
    structured=False,
    nxt="0",
    link="0",
    glob="0",
    date="100326",
):
    r = blank()
    put(r, 0, "21")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 10, ref.ljust(21))
    put(r, 31, amt(amount))
    put(r, 47, date)
    put(r, 53, code)
    put(r, 61, "1" if structured else "0")
    put(r, 62, comm[:53].ljust(53))
    put(r, 115, date)
    put(r, 121, "068")
    put(r, 124, glob)
    put(r, 125, nxt)
    put(r, 127, link)
    return "".join(r)


def mv22(seq, detail, comm="", e2e="", bic="", nxt="0", link="0"):
    r = blank()
    put(r, 0, "22")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 10, comm[:53].ljust(53))
    put(r, 63, e2e.ljust(35))
    put(r, 98, bic.ljust(11))
    put(r, 125, nxt)
    put(r, 127, link)
    return "".join(r)


def mv23(seq, detail, account, name, comm="", link="0"):
    r = blank()
    put(r, 0, "23")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 10, account.ljust(37))
    put(r, 47, name.ljust(35))
    put(r, 82, comm[:43].ljust(43))
    put(r, 127, link)
    return "".join(r)


def info31(seq, detail, ref, code, text, structured=False, nxt="0"):
    r = blank()
    put(r, 0, "31")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 10, ref.ljust(21))
    put(r, 31, code)
    put(r, 39, "1" if structured else "0")
    put(r, 40, text[:73].ljust(73))
    put(r, 125, nxt)
    return "".join(r)


def new_balance(structure, account, currency, balance, date="100326", seq="068"):
    r = blank()
    put(r, 0, "8")
    put(r, 1, seq)
    if structure == "0":
        put(r, 4, account)
        put(r, 17, currency)
    else:
        put(r, 4, account.ljust(34))
        put(r, 38, currency)
    put(r, 41, amt(balance))
    put(r, 57, date)
    return "".join(r)


def trailer(records, debit, credit, last="2"):
    r = blank()
    put(r, 0, "9")
    put(r, 16, f"{records:06d}")
    put(r, 22, f"{int(Decimal(debit) * 1000):015d}")
    put(r, 37, f"{int(Decimal(credit) * 1000):015d}")
    put(r, 127, last)
    return "".join(r)


def statement(structure, account, currency, old, moves, date="100326", seq="068", last="2"):
    debit = sum((-Decimal(a) for _, a in moves if Decimal(a) < 0), Decimal(0))
    credit = sum((Decimal(a) for _, a in moves if Decimal(a) > 0), Decimal(0))
    records = [old_balance(structure, account, currency, old, seq=seq)]
    for recs, _ in moves:
        records.extend(recs)
    records.append(
        new_balance(structure, account, currency, Decimal(old) + credit - debit, date=date, seq=seq)
    )
    return [header(date), *records, trailer(len(records), debit, credit, last)]


# 1. foreign account (structure 3, foreign IBAN, USD) + Belgian IBAN statement, CRLF, cp1252
s1 = statement(
    "3",
    "NL91ABNA0417164300",
    "USD",
    "1000.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "NLREF0000000000000001",
                    "250.00",
                    "00150000",
                    "101000000100131",
                    structured=True,
                    nxt="1",
                ),
                mv22("0001", "0000", "", "E2E-NL-1", "ABNANL2A", nxt="1"),
                mv23(
                    "0001", "0000", "NL91ABNA0417164300".ljust(34) + "USD", "Société Générale Café"
                ),
            ],
            "250.00",
        ),
    ],
    seq="012",
)
s2 = statement(
    "2",
    "BE68539007547034",
    "EUR",
    "500.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "BEREF0000000000000001",
                    "-12.10",
                    "00380000",
                    "FRAIS DE GESTION MARS",
                )
            ],
            "-12.10",
        ),
        (
            [
                mv21(
                    "0002",
                    "0000",
                    "BEREF0000000000000002",
                    "150.50",
                    "00150000",
                    "FACTURE INV-2026-0042 MERCI",
                    nxt="1",
                    link="1",
                ),
                mv22("0002", "0000", "", "", "GEBABEBB", nxt="1"),
                mv23(
                    "0002",
                    "0000",
                    "BE71096123456769".ljust(34) + "EUR",
                    "DUPONT BOULANGERIE",
                    link="1",
                ),
                info31(
                    "0002",
                    "0001",
                    "BEREF0000000000000002",
                    "00150000",
                    "001DUPONT BOULANGERIE",
                    structured=True,
                ),
            ],
            "150.50",
        ),
    ],
    seq="069",
)
with open("foreign_account_multi.cod", "wb") as f:
    f.write(("\r\n".join(s1 + s2) + "\r\n").encode("cp1252"))

# 2. globalisation: a type-1 total without details, a type-2 total with its details
glob = statement(
    "2",
    "BE68539007547034",
    "EUR",
    "0.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "GLOBREF00000000000001",
                    "-900.00",
                    "10150000",
                    "BATCH OF SUPPLIER PAYMENTS",
                    glob="1",
                )
            ],
            "-900.00",
        ),
        (
            [
                mv21(
                    "0002",
                    "0000",
                    "GLOBREF00000000000002",
                    "700.00",
                    "20150000",
                    "SEPA CREDITS 2 TRANSACTIONS",
                    glob="1",
                ),
                mv21(
                    "0002",
                    "0001",
                    "GLOBREF00000000000002",
                    "300.00",
                    "60150000",
                    "101000000100232",
                    structured=True,
                    nxt="1",
                ),
                mv23("0002", "0001", "BE71096123456769".ljust(34) + "EUR", "JAN PEETERS"),
                mv21(
                    "0002",
                    "0002",
                    "GLOBREF00000000000002",
                    "400.00",
                    "60150000",
                    "101000000100131",
                    structured=True,
                    nxt="1",
                ),
                mv23("0002", "0002", "NL91ABNA0417164300".ljust(34) + "EUR", "BOULANGERIE DUPONT"),
            ],
            "700.00",
        ),
    ],
)
with open("globalisation.cod", "w", newline="\n") as f:
    f.write("\n".join(glob) + "\n")

# 3. wrong version code
bad = statement("2", "BE68539007547034", "EUR", "0.00", [])
bad[0] = header(version="1")
with open("wrong_version.cod", "w", newline="\n") as f:
    f.write("\n".join(bad) + "\n")

# 4. a malformed amount on line 3
mal = statement(
    "2",
    "BE68539007547034",
    "EUR",
    "0.00",
    [([mv21("0001", "0000", "BADREF000000000000001", "10.00", "00150000", "X")], "10.00")],
)
mal[2] = mal[2][:32] + "00000000001X000" + mal[2][47:]
with open("malformed_amount.cod", "w", newline="\n") as f:
    f.write("\n".join(mal) + "\n")

# 5. a foreign BBAN account (structure 1); an RF reference (type 100), a reconstituted
#    OGM (type 102) and a free-text information record (3.1) on a third movement
rf = statement(
    "1",
    "123456789012345",
    "CHF",
    "10.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "RFREF0000000000000001",
                    "1210.00",
                    "00150000",
                    "100RF18539007547034",
                    structured=True,
                )
            ],
            "1210.00",
        ),
        (
            [
                mv21(
                    "0002",
                    "0000",
                    "RFREF0000000000000002",
                    "400.00",
                    "00150000",
                    "102000000100131",
                    structured=True,
                )
            ],
            "400.00",
        ),
        (
            [
                mv21(
                    "0003",
                    "0000",
                    "RFREF0000000000000003",
                    "99.99",
                    "00150000",
                    "VIREMENT",
                    link="1",
                ),
                info31(
                    "0003",
                    "0001",
                    "RFREF0000000000000003",
                    "00150000",
                    "FACTURE INV-2026-0099 DU 01/03",
                ),
            ],
            "99.99",
        ),
    ],
    seq="101",
)
with open("structure1_rf_information.cod", "w", newline="\n") as f:
    f.write("\n".join(rf) + "\n")


def info32(seq, detail, text, nxt="0"):
    r = blank()
    put(r, 0, "32")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 10, text[:105].ljust(105))
    put(r, 125, nxt)
    return "".join(r)


def free4(seq, detail, text):
    r = blank()
    put(r, 0, "4")
    put(r, 2, seq)
    put(r, 6, detail)
    put(r, 32, text[:80].ljust(80))
    return "".join(r)


# 6. two accounts (a Belgian IBAN, then a Belgian BBAN, structure 0) in one file as an
#    email client leaves it: trailing blanks trimmed, CRLF, no line end after the last
#    record; a reconstituted OGM (type 102) and a counterparty account given as a BBAN
a = statement(
    "2",
    "BE68539007547034",
    "EUR",
    "100.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "TRIMREF00000000000001",
                    "605.00",
                    "00150000",
                    "102090933755493",
                    structured=True,
                    nxt="1",
                ),
                mv23("0001", "0000", "BE71096123456769".ljust(34) + "EUR", "JANSSENS & ZONEN"),
            ],
            "605.00",
        ),
    ],
    seq="070",
)
b = statement(
    "0",
    "539007547034",
    "EUR",
    "0.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "TRIMREF00000000000002",
                    "75.00",
                    "00150000",
                    "FACTUUR INV-2026-0061",
                    nxt="1",
                ),
                mv23("0001", "0000", "096123456769 EUR", "PEETERS LUC"),
            ],
            "75.00",
        ),
        (
            [
                mv21(
                    "0002",
                    "0000",
                    "TRIMREF00000000000003",
                    "-3.00",
                    "00380000",
                    "",
                )
            ],
            "-3.00",
        ),
    ],
    seq="071",
)
with open("trimmed_two_accounts.cod", "wb") as f:
    f.write("\r\n".join(r.rstrip() for r in a + b).encode("cp1252"))

# 7. where the payer's words and name hide: a free communication running over 2.1, 2.2
#    and 2.3, a name only in a structured information record (3.1, type 001), a free
#    information record continued by a 3.2, and a free communication record (4)
long_text = (
    "PAIEMENT FACTURES INV-2026-0070 ET INV-2026-0071 MOINS NOTE DE CREDIT CN-2026-0003 "
    "VOIR MAIL DU 02/03 +++090/9337/55493+++ MERCI"
)
c = statement(
    "2",
    "BE68539007547034",
    "EUR",
    "0.00",
    [
        (
            [
                mv21(
                    "0001",
                    "0000",
                    "COMMREF00000000000001",
                    "845.20",
                    "00150000",
                    long_text[:53],
                    nxt="1",
                ),
                mv22("0001", "0000", long_text[53:106], nxt="1"),
                mv23(
                    "0001",
                    "0000",
                    "BE71096123456769".ljust(34) + "EUR",
                    "BRASSERIE HET ANKER BV",
                    long_text[106:149],
                ),
            ],
            "845.20",
        ),
        (
            [
                mv21(
                    "0002",
                    "0000",
                    "COMMREF00000000000002",
                    "120.00",
                    "00150000",
                    "101000000100131",
                    structured=True,
                    link="1",
                ),
                info31(
                    "0002",
                    "0001",
                    "COMMREF00000000000002",
                    "00150000",
                    "001MEVROUW AN DE SMET",
                    structured=True,
                    nxt="1",
                ),
                info32("0002", "0001", "KERKSTRAAT 12 9000 GENT"),
            ],
            "120.00",
        ),
        (
            [
                mv21(
                    "0003",
                    "0000",
                    "COMMREF00000000000003",
                    "60.00",
                    "00150000",
                    "ACOMPTE",
                    link="1",
                ),
                info31(
                    "0003",
                    "0001",
                    "COMMREF00000000000003",
                    "00150000",
                    "SUR FACTURE INV-2026-0080, LE SOLDE SUIVRA FIN DU MOIS",
                    nxt="1",
                ),
                info32("0003", "0001", "APRES RECEPTION DE LA MARCHANDISE"),
            ],
            "60.00",
        ),
    ],
    seq="072",
)
c.insert(-2, free4("0003", "0000", "MESSAGE DE LA BANQUE: NOUVEAUX TARIFS AU 01/04"))
with open("communication_continued.cod", "w", newline="\n") as f:
    f.write("\n".join(c) + "\n")
