"""The web console (managers) and desk (agents) served by `dialer api`: server-rendered page
shells (`dialer.web.pages`) whose own scripts call the ``/v1`` API with the session cookie."""
