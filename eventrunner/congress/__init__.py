"""Members of Congress by ZIP code, from data shipped with the package: the lookup behind
the participant page's "email your members of Congress" (lookup.py), and the command
that rebuilds the data from its public sources (refresh.py; data/PROVENANCE.md)."""
