"""The embedded local AWS: moto in server mode behind our WSGI layer.

One folder per AWS service, as in moto (state in ``models.py``, the wire protocol in ``responses.py``,
errors in ``exceptions.py``); ``core/`` is the server and the dispatcher and knows no service, ``admin/``
the ``/_emulator/`` API, and ``app.py`` the composition root that imports every service and mounts.
"""
