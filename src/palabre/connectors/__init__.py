"""The connector framework (M10): one interface per platform, health, retries and the outbox."""
