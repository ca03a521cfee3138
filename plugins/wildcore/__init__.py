"""Wildcore DMS: LMS feeds Wildcore as MikBill does and shows ONU and switch-port diagnostics on the card."""
