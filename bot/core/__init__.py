"""The platform-neutral core of Reconnect.

Contacts, cadences, command parsing, fuzzy name matching and reply models live here. Nothing in
this package may import a chat platform SDK or a web framework: adapters translate payloads into
calls on :class:`bot.core.service.Reconnect` and render the replies it returns.
"""
