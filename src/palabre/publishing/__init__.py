"""Publishing (M7): drafts, approvals, scheduling and guardrails."""
