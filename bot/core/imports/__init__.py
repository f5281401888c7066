"""Importing contacts: LinkedIn ``Connections.csv``, Google Contacts CSV and vCard files.

Platform-neutral and without I/O: adapters hand over the file's bytes. ``parse`` reads them
(:mod:`.decode`, :mod:`.tables`, :mod:`.vcards`), :mod:`.merge` deduplicates, :mod:`.flow`
stores the result in the user's *pool*, and :mod:`.triage` orders the pool for picking.
"""
