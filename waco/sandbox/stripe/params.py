"""Stripe's form encoding, read back into nested values: `line_items[0][price_data][currency]=eur`.

stripe-python encodes lists as `expand[0]=a` and curl users write `expand[]=a`;
both are read. Typed getters raise Stripe's parameter errors, naming the param.
"""

import re

from waco.sandbox.stripe.errors import invalid_param, missing_param

_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def params_parse(pairs) -> dict:
    """(key, value) pairs from a form or query string -> nested dicts and lists."""
    root: dict = {}
    for raw_key, value in pairs:
        match = _NAME.match(raw_key)
        if match is None:
            raise invalid_param(raw_key, f"Invalid parameter name: {raw_key}")
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for segment in path[:-1]:
            child = node.setdefault(segment or str(len(node)), {})
            if not isinstance(child, dict):
                raise invalid_param(raw_key, f"Invalid hash or array: {raw_key}")
            node = child
        leaf = path[-1] or str(len(node))
        if isinstance(node.get(leaf), dict):
            raise invalid_param(raw_key, f"Invalid hash or array: {raw_key}")
        node[leaf] = value
    return _listify(root)


def _listify(value):
    """A dict whose keys are all indexes is a list, in index order."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(child) for key, child in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def request_params(query_dict) -> dict:
    return params_parse((key, value) for key, values in query_dict.lists() for value in values)


def required(params: dict, name: str, *, label: str | None = None):
    value = params.get(name)
    if value in (None, "", {}, []):
        raise missing_param(label or name)
    return value


def as_str(value, param: str, *, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise invalid_param(param, f"Invalid string: {param} must be a string.")
    if len(value) > max_length:
        raise invalid_param(param, f"Invalid string: must be at most {max_length} characters.")
    return value


def as_int(value, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        number = int(value)
    else:
        raise invalid_param(param, f"Invalid integer: {value}", code="parameter_invalid_integer")
    if minimum is not None and number < minimum:
        raise invalid_param(param, f"This value must be greater than or equal to {minimum}.")
    if maximum is not None and number > maximum:
        raise invalid_param(param, f"This value must be less than or equal to {maximum}.")
    return number


def as_bool(value, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise invalid_param(param, f"Invalid boolean: {value}")


def as_list(value, param: str) -> list:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise invalid_param(param, f"Invalid array: {param}")
    return value


def as_metadata(value, param: str = "metadata") -> dict:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_param(param, "Invalid hash: metadata must be a hash of strings.")
    if len(value) > 50:
        raise invalid_param(param, "Metadata can have up to 50 keys.")
    for key, item in value.items():
        if len(key) > 40:
            raise invalid_param(f"{param}[{key}]", "Metadata keys must be at most 40 characters.")
        if len(item) > 500:
            raise invalid_param(f"{param}[{key}]", "Metadata values must be at most 500 characters.")
    return {key: item for key, item in value.items() if item != ""}
