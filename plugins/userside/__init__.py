"""UserSide: LMS serves UserSide's universal billing API, so usm_billing imports an LMS ISP."""
