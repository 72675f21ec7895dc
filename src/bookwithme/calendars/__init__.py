"""Where busy time comes from: the organizer's own busy blocks and bookings, ICS feeds and
CalDAV servers."""
