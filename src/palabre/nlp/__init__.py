"""Pure text analysis for Palabre: normalisation, language, lexicons and classifiers.

This floor imports nothing from Django and knows nothing about organisations; the
moderation and listening apps build on it.
"""
