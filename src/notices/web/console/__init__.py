"""The console for facility managers: login, notices, people, previews."""
