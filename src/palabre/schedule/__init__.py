"""One scheduler for periodic work: the table in `jobs.py`, run by every `palabre worker`, each due
job claimed by one worker only (`services.run_due`). See docs/architecture.md, "Schedule"."""
