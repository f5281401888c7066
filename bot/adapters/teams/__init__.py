"""The Microsoft Teams adapter: the Microsoft 365 Agents SDK, Adaptive Cards, proactive nudges."""
