"""Local actions and live check-ins: hosting an action, checking in from it, moderation."""
