"""What the HTML faces (the portal and identity's login pages) share: page-or-fragment rendering on
htmx-flask, form helpers, the session user and its cookie. Imports app.* only, never portal/ or identity/;
the field macros it goes with are templates/web/_fields.html."""
