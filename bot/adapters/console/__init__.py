"""The console adapter: the same core and database, in a terminal. No Slack needed."""
