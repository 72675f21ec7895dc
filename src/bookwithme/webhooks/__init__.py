"""Webhooks: organizers' URLs told of booking changes (SPEC 2.9)."""
