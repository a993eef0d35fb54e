"""Schemathesis (its `st` CLI) against a live server's /api/schema/, for tests/api/.

`fuzz_run` writes a schemathesis.toml that puts real identifiers into path, query and body fields (so
operations reach their objects, not only 404s), runs `st run` in a child process and reads back its
JSON report (failures by check and operation) and its HAR cassette (every request and answer), which
`FuzzRun` maps onto the schema's operations.
"""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.openapi import (
    API_PREFIX,
    FIELD_RESOURCES,
    Operation,
    body_fields,
    deref,
    resource_of_path_parameter,
    schema_fetch,
    schema_operations,
)

ST = Path(sys.executable).with_name("st")
# How often a bound field takes a real identifier instead of a generated value.
REAL_ID_PROBABILITY = 0.8
# What schemathesis counts as refusing invalid data by default (negative_data_rejection).
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]


@dataclass
class Bindings:
    """What the generated schemathesis.toml binds: dictionaries of real identifiers, per operation."""

    dictionaries: dict[str, list] = field(default_factory=dict)
    operations: list[tuple[Operation, dict[str, str]]] = field(default_factory=list)
    unbound_path_parameters: list[str] = field(default_factory=list)

    def dictionary(self, resource: str, json_type: str, identifiers: dict[str, list]) -> str | None:
        values = identifiers.get(resource) or []
        if json_type == "integer":
            values = [int(v) for v in values if str(v).isdigit()]
        else:
            values = [str(v) for v in values]
        if not values:
            return None
        name = f"{resource}_{json_type}"
        self.dictionaries[name] = values
        return name


def bindings_for(schema: dict, identifiers: dict[str, list]) -> Bindings:
    bindings = Bindings()
    for operation in schema_operations(schema):
        bound: dict[str, str] = {}
        for parameter in operation.spec.get("parameters", []):
            parameter = deref(schema, parameter)
            name, location = parameter["name"], parameter["in"]
            json_type = deref(schema, parameter.get("schema", {})).get("type", "string")
            if location == "path":
                resource = resource_of_path_parameter(operation.path, name)
            elif location == "query":
                resource = FIELD_RESOURCES.get(name)
            else:
                continue
            dictionary = resource and bindings.dictionary(resource, json_type, identifiers)
            if dictionary:
                bound[f"{location}.{name}"] = dictionary
            elif location == "path":
                bindings.unbound_path_parameters.append(f"{operation.label}: {name}")
        content = operation.spec.get("requestBody", {}).get("content", {})
        body = content.get("application/json", {}).get("schema")
        if body:
            for key, name, json_type in body_fields(schema, body, "body"):
                resource = FIELD_RESOURCES.get(name)
                dictionary = (
                    resource
                    and json_type in ("string", "integer")
                    and bindings.dictionary(resource, json_type, identifiers)
                )
                if dictionary:
                    bound[key.replace("body.[*]", "body[*]")] = dictionary
        if bound:
            bindings.operations.append((operation, bound))
    return bindings


def _toml(value) -> str:
    """A TOML value: JSON's strings, numbers and arrays are TOML's too."""
    return json.dumps(value)


def config_write(path: Path, bindings: Bindings, *, auth_scheme: str, max_examples: int) -> None:
    lines = ["[generation]", f"max-examples = {max_examples}", 'database = "none"', ""]
    lines += ["[phases.stateful]", "max-steps = 10", ""]
    # Schema-valid data may still be refused by the shop's rules, which no schema states: a paid order
    # cannot be shipped before it is packed (409), the policy refuses a message (422).
    lines += ["[checks.positive_data_acceptance]", 'expected-statuses = ["2XX", 401, 403, 404, 409, 422, 429]', ""]
    lines += [f"[auth.openapi.{_toml(auth_scheme)}]", 'bearer = "${WACO_FUZZ_KEY}"', ""]
    for name, values in bindings.dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}", ""]
    for operation, bound in bindings.operations:
        parameters = ", ".join(
            f"{_toml(key)} = {{ dictionary = {_toml(name)}, probability = {REAL_ID_PROBABILITY} }}"
            for key, name in bound.items()
        )
        lines += [
            "[[operations]]",
            f"include-path = {_toml(operation.path)}",
            f"include-method = {_toml(operation.method.upper())}",
            f"parameters = {{ {parameters} }}",
            "",
        ]
    # A batch validates each item on its own: an invalid item is refused in a 200's per-item results.
    lines += [
        "[[operations]]",
        f"include-path-regex = {_toml(API_PREFIX + '.*/batch$')}",
        f"checks = {{ negative_data_rejection = {{ expected-statuses = {_toml([*REFUSALS, 200])} }} }}",
        "",
    ]
    path.write_text("\n".join(lines))


def bearer_scheme(schema: dict) -> str | None:
    """The name of the schema's `Authorization: Bearer` security scheme (waco.api.schema's ApiKey)."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    return next((name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme") == "bearer"), None)


@dataclass
class FuzzRun:
    """What one `st run` did: its report, and every request it sent with the answer (HAR entries)."""

    operations: list[Operation]
    report: dict
    entries: list[dict]
    seconds: float
    log_path: Path

    def statuses(self) -> dict[str, Counter]:
        by_operation = {operation.label: Counter() for operation in self.operations}
        for entry in self.entries:
            operation = self.operation_of(entry)
            if operation:
                by_operation[operation.label][entry["response"]["status"]] += 1
        return by_operation

    def operation_of(self, entry: dict) -> Operation | None:
        path = urlsplit(entry["request"]["url"]).path
        return next((op for op in self.operations if op.matches(entry["request"]["method"], path)), None)

    def without_2xx(self) -> list[str]:
        return [label for label, counts in self.statuses().items() if not any(200 <= s < 300 for s in counts)]

    def server_errors(self) -> list[str]:
        return [
            f"{e['request']['method']} {e['request']['url']} -> {e['response']['status']}: "
            f"{(e['response']['content'].get('text') or '')[:300]}"
            for e in self.entries
            if e["response"]["status"] >= 500
        ]

    def revealing(self, private_strings: list[str]) -> list[str]:
        """2xx answers showing one of `private_strings` that their request did not send."""
        found = []
        for entry in self.entries:
            if not 200 <= entry["response"]["status"] < 300:
                continue
            answer = entry["response"]["content"].get("text") or ""
            sent = entry["request"]["url"] + ((entry["request"].get("postData") or {}).get("text") or "")
            shown = [s for s in private_strings if s in answer and s not in sent]
            if shown:
                found.append(f"{entry['request']['method']} {entry['request']['url']} shows {shown}")
        return found

    def failures(self) -> list[str]:
        """One line per failure group of the report (check, title, count, operations), then its errors
        (requests that got no answer, a schema that did not load)."""
        return [
            f"{group['type']} ({group['title']}): {group['count']}x in {', '.join(group['operations'])}"
            for group in self.report.get("failures", [])
        ] + [f"ERROR {error['title']} x{error['count']}" for error in self.report.get("errors", [])]

    def failure_details(self, limit: int = 6000) -> str:
        """The CLI's FAILURES section: each failure with the curl command that reproduces it."""
        output = self.log_path.read_text()
        start = output.find("FAILURES")
        end = output.find("SUMMARY", max(start, 0))
        return output[start:end][:limit] if start >= 0 else ""

    def summary(self) -> str:
        cases = self.report.get("test_cases", {})
        lines = [
            f"schemathesis: {len(self.operations)} operations, {cases.get('generated')} test cases, "
            f"{len(self.entries)} requests, {self.seconds:.1f} s, exit code {self.report.get('exit_code')}",
            f"  (details and curl reproductions: {self.log_path})",
        ]
        for label, counts in self.statuses().items():
            lines.append(f"  {label}: {dict(sorted(counts.items()))}")
        lines += [f"  FAILURE {line}" for line in self.failures()]
        if self.failures():
            lines.append(self.failure_details())
        return "\n".join(lines)


def fuzz_run(
    base_url: str,
    raw_key: str,
    identifiers: dict[str, list],
    workdir: Path,
    *,
    checks: str = "all",
    max_examples: int = 25,
    seed: int = 16,
    timeout: float = 900,
) -> FuzzRun:
    """Run `st run` against `base_url` with `raw_key`; the report and cassette stay in `workdir`."""
    schema = schema_fetch(base_url)
    bindings = bindings_for(schema, identifiers)
    assert not bindings.unbound_path_parameters, (
        f"path parameters with no seeded identifiers (add them to tests/support/api_world.py): "
        f"{bindings.unbound_path_parameters}"
    )
    auth_scheme = bearer_scheme(schema)
    assert auth_scheme, "the schema declares no Bearer security scheme"
    config = workdir / "schemathesis.toml"
    config_write(config, bindings, auth_scheme=auth_scheme, max_examples=max_examples)
    command = [
        str(ST),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/schema/?format=json",
        "--url",
        base_url,
        "--include-path-regex",
        f"^{API_PREFIX}",
        "--checks",
        checks,
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "json,har",
        "--report-json-path",
        str(workdir / "report.json"),
        "--report-har-path",
        str(workdir / "requests.har"),
        "--no-color",
    ]
    env = os.environ | {"WACO_FUZZ_KEY": raw_key}  # the config reads it: the key stays out of files and `ps`
    started = time.monotonic()
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    (workdir / "st.log").write_text(result.stdout + result.stderr)  # each failure with its curl reproduction
    report_path, har_path = workdir / "report.json", workdir / "requests.har"
    if not report_path.exists() or not har_path.exists():
        raise AssertionError(f"schemathesis wrote no report:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
    return FuzzRun(
        operations=schema_operations(schema),
        report=json.loads(report_path.read_text()),
        entries=json.loads(har_path.read_text())["log"]["entries"],
        seconds=seconds,
        log_path=workdir / "st.log",
    )
