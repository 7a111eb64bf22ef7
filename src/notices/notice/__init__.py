"""Notices themselves: status from times, input validation, the notice SQL, wording and markup."""
