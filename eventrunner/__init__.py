"""eventrunner: runs the timed program of a national day of action, live."""
