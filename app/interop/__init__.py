"""Open standards other directories speak: Open Referral UK (out and in) and Give Food (in)."""
