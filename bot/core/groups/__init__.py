"""Outplacement groups: a channel run by a coach, members who choose what they share.

Platform-neutral like the rest of :mod:`bot.core`; storage and adapters implement its ports.
"""
