"""Scheduled work (morning nudges). The scheduler arrives with the nudges issue."""
