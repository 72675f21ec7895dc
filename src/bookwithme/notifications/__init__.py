"""Emails about bookings: rendered into the outbox with the change, delivered by the worker."""
