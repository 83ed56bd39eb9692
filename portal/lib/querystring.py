from urllib.parse import urlencode


def with_params(query, **changes) -> str:
    """``?...`` for the current query string with ``changes`` applied (None removes a parameter)."""
    params = {key: value for key, value in query.items() if value != ""}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params) if params else "?"
