"""One module per resource; each route parses, authorises, calls one CollectorApi method."""
