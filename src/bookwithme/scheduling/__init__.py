"""When an organizer meets: schedule rules (``schedules``) and the pure slot engine (``slots``)."""
