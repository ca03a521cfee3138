"""Metroport MVNO (mobile, REST): binds customers, mirrors SIM accounts, imports billing records."""
