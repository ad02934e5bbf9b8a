"""The emulator's core: WSGI server and dispatch, the botocore-model protocol, the handler registry,
validation, state and the errors handlers raise."""
