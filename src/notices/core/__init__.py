"""The bottom layer: settings, clock, database and models, errors, resources, logging, text safety."""
