"""The one exception type that reaches users as a one-line message instead of a traceback."""


class HonyakuError(Exception):
    """A problem with the user's input, files or environment, explained in the message.

    The CLI prints ``honyaku: error: <message>`` and exits with status 1; anything else that escapes is a bug.
    """
