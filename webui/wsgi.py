"""The WSGI entry point for production servers: ``gunicorn webui.wsgi:app``.

Settings come from the environment (and a ``.env`` file in the working directory), as for
every ``dossier`` command.  Only the web app runs here: the workers that parse, OCR and
index run apart (``dossier worker``; the ``worker`` service of ``docker-compose.yml``).
"""

from __future__ import annotations

from foundation.filemodes import private_umask
from webui import create_app

private_umask()  # what the web process writes into the data home (exports, the session key) stays private
app = create_app()
