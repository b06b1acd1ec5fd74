"""Analytics and reports (M9): figures computed by the database, charts, HTML/PDF/CSV reports."""
