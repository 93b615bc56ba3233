"""One module per recognizer; the table that names them is ``apprentice.redact.RECOGNIZERS``."""
