"""The demo brand: Maison Lumière, a fictional French home and furniture retailer, and a second,
unrelated organisation (Brasserie du Port) to show that one organisation never sees another's data.

Everything is built through the real services by `palabre.demo.loader.load_demo`; the texts live in
the JSON files beside this module and were written for the demo (no real people, no copied posts).
"""
