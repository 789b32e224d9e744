"""HTTP: the pages (participant, producer console, overlays) and the JSON API."""
