"""The foundation every other package stands on: the root error, the settings table, the data home's file
modes and the shared customer vocabulary.  It imports nothing of the project."""
