"""Page views, one module per area; each area has its own urls module."""
