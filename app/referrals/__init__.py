"""Referrals: a caller's need passed, with consent, to the organisation that can meet it."""
