"""The frontend app has no models: pages read and write through matchmaking's selectors and services."""
