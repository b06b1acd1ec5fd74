"""The report (HTML and PDF) ends with the crisis timeline of each alert of its period: the day of
Maison Dupont of test_crisis_timeline, whose figures are computed there by hand (first signal
12:00, alert 15:05, first answer 15:40: 185 and 220 minutes; one post held)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .test_crisis_timeline import crisis, forum_publisher  # noqa: F401  (the fixtures)

DAY = {"from": "2026-06-10", "to": "2026-06-10"}


def test_the_html_report_holds_each_alerts_timeline_and_curve(crisis, client):  # noqa: F811
    client.force_login(crisis.alice)
    response = client.get("/analytics/report.html", DAY, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    html = response.content.decode()
    section = html.split('id="crises-title"', 1)[1]
    # the alert's heading in Paris time and the French format, its figures in the unit that keeps
    # them short: 185 minutes = 3,1 h, 220 minutes = 3,7 h
    assert "Marque, 10/06/2026 14:00" in section
    assert "3,1\u00a0h" in section or "3,1 h" in section
    assert "3,7\u00a0h" in section or "3,7 h" in section
    assert "10/06/2026 12:00" in section  # the first signal
    assert "Soldes d&#x27;été" in section  # the post held
    assert section.count("<svg") == 1  # its volume curve


def test_a_period_without_alert_has_no_crisis_section(crisis, client):  # noqa: F811
    client.force_login(crisis.alice)
    html = client.get("/analytics/report.html", {"from": "2026-06-11", "to": "2026-06-11"}).content.decode()
    assert 'id="crises-title"' not in html


def test_the_pdf_report_draws_the_timeline(crisis, client, tmp_path):  # noqa: F811
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) reads the PDF's text")
    client.force_login(crisis.alice)
    response = client.get("/analytics/report.pdf", DAY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Crisis timeline: Marque" in text
    assert "Posts held during the crisis" in text
