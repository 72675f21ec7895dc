"""Meeting types, their private links, and the organizer's page with publishing."""
