"""The cxtext REST service (FastAPI): ``uvicorn api.main:app`` or ``cxtext serve``."""
