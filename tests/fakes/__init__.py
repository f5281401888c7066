"""Fakes of the outside world that are real servers: the Slack Web API, signed requests."""
