"""What the faces share: the Flask extensions, request plumbing (request ids, JSON body, error envelope, query
parameters, URL converters, security headers), the operational and vendor routes, and for the HTML faces (the
portal and identity's login pages) page-or-fragment rendering on htmx-flask, form helpers, the session user and
its cookie. Imports app.* and common.* only, never api/, portal/ or identity/; the field macros it goes with are
templates/web/_fields.html."""
