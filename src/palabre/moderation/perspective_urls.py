"""URLs filled in by the M3 work."""

urlpatterns: list = []
