"""The embedded local stack: moto's server, the production template, the app, its events."""
