"""The JSON API /api/v1: routes, request and response models, errors, its docs page."""
