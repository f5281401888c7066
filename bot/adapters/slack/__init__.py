"""The Slack adapter: Bolt for Python listeners that call the core and render Block Kit."""
