"""Gateways to the LMS core tables: the only place that writes them (DESIGN rule 3).

One module per LMS area; each speaks LMS conventions (unix-time integers, soft-deleted customers,
billing-address snapshots, numbering under a lock) so plugins never have to know them.
"""
