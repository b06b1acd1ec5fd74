"""The unified inbox (M4): threads, triage, assignment, replies, SLA."""
