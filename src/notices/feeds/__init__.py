"""Feeds as bytes: Atom and RSS, iCalendar, which feeds exist, static export."""
