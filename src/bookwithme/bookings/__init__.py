"""Bookings: create, reschedule and cancel, with the race-proof write."""
