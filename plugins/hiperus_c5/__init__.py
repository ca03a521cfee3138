"""Hiperus C5 (VoIP, SOAP) integration: replaces the PHP LMSHiperusPlugin (see specs/hiperus_c5.md)."""
