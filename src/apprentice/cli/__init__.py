"""The ``apprentice`` command line: parse arguments, build objects, call one function."""
