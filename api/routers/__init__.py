"""The service's routers, one per concern (FastAPI "Bigger Applications")."""
