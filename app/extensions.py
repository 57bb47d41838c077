"""Extension singletons, bound to an app in create_app with init_app."""
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
