"""Organization and user policy, plans and the audit log (SPEC 2.7)."""
