"""The thin ASGI layer: settings, routing, the request pipeline, and the app factory (composition root)."""
