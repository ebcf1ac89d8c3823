"""Nothing to register: the frontend app has no models."""
