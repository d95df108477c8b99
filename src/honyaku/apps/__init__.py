"""What people run: the ``honyaku`` command line (``cli``, a thin layer over the Python API) and the HTTP API with
its web page (``serve``; the page itself is ``honyaku/web/``)."""
