"""Settings of credits: prices, the sign-up bonus, monthly grants and reservations.

Part of the settings module (`phonoglyph.settings` imports every name), kept apart so that
each settings file stays readable; values come from the environment like all the others.
"""

from __future__ import annotations

import environ

env = environ.Env()

# Credits and billing
# Prices are credits per STARTED minute of validated audio; staff may override them in the admin.
PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE: int = env.int(
    "PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE", default=1
)
PHONOGLYPH_PRICE_STEM_SEPARATION_PER_MINUTE: int = env.int(
    "PHONOGLYPH_PRICE_STEM_SEPARATION_PER_MINUTE", default=3
)
PHONOGLYPH_SIGNUP_BONUS_CREDITS: int = env.int("PHONOGLYPH_SIGNUP_BONUS_CREDITS", default=30)
PHONOGLYPH_MONTHLY_FREE_CREDITS: int = env.int("PHONOGLYPH_MONTHLY_FREE_CREDITS", default=60)
# Where a credit movement's job reference ("<kind>:<id>") links to, by job kind: the ledger only
# knows references, the root knows which page shows each kind.
PHONOGLYPH_JOB_PAGES: dict[str, str] = {
    "analysis": "analysis:job-detail",
    "stem_separation": "stems:job-detail",
}
# A reservation not captured or released within this time is released by the sweep.
PHONOGLYPH_CREDIT_RESERVATION_TTL_MINUTES: int = env.int(
    "PHONOGLYPH_CREDIT_RESERVATION_TTL_MINUTES", default=120
)
PHONOGLYPH_CREDIT_SWEEP_INTERVAL_SECONDS: int = env.int(
    "PHONOGLYPH_CREDIT_SWEEP_INTERVAL_SECONDS", default=300
)
