"""Users, passwords, browser sessions, personal access tokens and first-run setup."""
