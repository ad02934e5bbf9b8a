"""The embedded local AWS: moto in server mode behind our WSGI layer (see emulator/core/server.py).

One folder per AWS service, as in moto (state in ``models.py``, the wire protocol in ``responses.py``,
errors in ``exceptions.py``); ``core/`` is the server and dispatch, ``admin/`` the ``/_emulator/`` API.
"""
