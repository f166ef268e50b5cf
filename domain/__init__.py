"""The reconciliation and dunning core: pure Python, no I/O, no clock.

Functions take ``today`` as an argument; storage, mail and chat live outside
(``adapters/``, ``bot/``) and map to these types.  The only third-party import is
python-stdnum, a pure check-digit library.
"""
