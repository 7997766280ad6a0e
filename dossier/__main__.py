"""``python -m dossier`` runs the CLI (how ``dossier serve`` starts its workers)."""

from dossier.cli import main

main()
