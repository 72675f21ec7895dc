"""HTTP: the JSON API under /api/v1 and the server-rendered pages. Routes only translate
HTTP to service calls."""
