"""The input-error type of the readers (re-exported by ``njforecast.io.store``)."""


class DataError(ValueError):
    """Bad or unreadable input; the message names the file, row/column and the fix."""
