"""gunicorn entry points: `gunicorn wsgi:app` (API, portal, identity) and `gunicorn wsgi:files`."""
from app import create_app
from fileserver import create_files_app

app = create_app()
files = create_files_app()
