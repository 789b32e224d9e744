"""Languages of the pages: message catalogs (Babel .po files, shared by the templates and
the page scripts), choosing a viewer's language, and dates and times in it."""
