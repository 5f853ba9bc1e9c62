"""``dgsql create`` end to end against a local OpenAI-compatible stub (tests/llm_stub.py, on
127.0.0.1): every scripted scenario of issue 17, and what was sent to the server. No test
reaches the network."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import CliResult
from dgsql.cli import app
from dgsql.compiler.source import read_source
from dgsql.create import client as create_client
from dgsql.create import command, prompt
from dgsql.create.repair import Outcome, annotated
from dgsql.create.reply import read_reply
from dgsql.dsl.json_schema import dataset_json_schema
from dgsql.dsl.model import GENERATOR_MODELS, MODIFIER_ARGS
from llm_stub import Refuse, Reply, Slow, Status, StubServer

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-4f1c2b9e7d"
ENV_KEYS = ("DGSQL_LLM_BASE_URL", "DGSQL_LLM_MODEL", "DGSQL_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration from the machine; the key is the test's; retries wait a millisecond."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DGSQL_LLM_API_KEY", SECRET)
    monkeypatch.setattr(create_client, "BACKOFF_SECONDS", 0.001)


def shop(rows: int = 2000, lam: float = 4.0) -> dict[str, Any]:
    """A small valid schema: ~10,000 expected rows."""
    return {
        "version": "1.0",
        "metadata": {"name": "tiny_shop", "description": "Customers and their orders."},
        "timeframe": {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"},
        "nodes": [
            {"id": "customer", "kind": "entity", "pk": "customer_id", "rows": rows, "columns": [
                {"name": "customer_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "tier", "type": "string",
                 "generator": {"choice": {"choices": ["free", "pro"], "weights": [0.8, 0.2]}}}]},
            {"id": "orders", "kind": "fact", "parents": ["customer"], "pk": "order_id",
             "fanout": {"distribution": "poisson", "lambda": lam, "min": 0, "max": 20},
             "columns": [
                {"name": "order_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "customer_id", "type": "int", "generator": {"lookup": {"from": "customer.customer_id"}}},
                {"name": "ordered_at", "type": "datetime", "generator": {"datetime_series": {"within": "timeframe"}}},
                {"name": "amount", "type": "float", "generator": {"distribution": {
                    "type": "lognormal", "params": {"mean": 3.5, "sigma": 0.6}, "clamp": [1, 2000]}}}]},
        ],
        "constraints": {
            "foreign_keys": [{"from": "orders.customer_id", "to": "customer.customer_id"}],
            "ranges": [{"attr": "orders.amount", "min": 0}],
        },
    }  # fmt: skip


def envelope(schema: dict[str, Any] | None, **kw: Any) -> dict[str, Any]:
    return {"questions": [], "assumptions": [], "simplifications": [], "schema": schema, **kw}


def with_typo() -> dict[str, Any]:
    """Unknown key ``wieghts``: the checker suggests ``weights``."""
    s = shop()
    choice = s["nodes"][0]["columns"][1]["generator"]["choice"]
    choice["wieghts"] = choice.pop("weights")
    return s


def with_orphans() -> dict[str, Any]:
    """Passes check; the sample's foreign keys fail (ids drawn beyond the customers')."""
    s = shop()
    s["nodes"][1]["columns"][1]["generator"] = {
        "distribution": {"type": "uniform", "params": {"low": 1, "high": 50000}}
    }
    return s


def cli(*args: Any, input: str | None = None) -> CliResult:
    """``dgsql`` in-process; the key never shows in what it prints."""
    r = CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    result = CliResult(r.exit_code, r.stdout, r.stderr)
    assert SECRET not in result.stdout + result.stderr
    return result


def run(tmp_path: Path, stub: StubServer | str, *args: Any, input: str | None = None) -> CliResult:
    """``dgsql create ARGS`` against the stub (or a URL), writing ``tmp_path/schema.json`` unless
    ARGS name another file."""
    url = stub if isinstance(stub, str) else stub.url
    out = [] if "-o" in args else ["-o", tmp_path / "schema.json"]
    return cli("create", *args, *out, "--base-url", url, "--model", "stub-model", input=input)


def sent_problems(request: Any) -> str:
    return request.last_user


# ------------------------------------------------------------------ scenarios


def test_a_valid_schema_at_once(tmp_path: Path, dg: Any) -> None:
    reply = envelope(shop(), assumptions=["one currency, EUR"], simplifications=["reviews text -> none"])
    with StubServer([Reply(reply)]) as stub:
        result = run(tmp_path, stub, "Customers and their orders", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    written = json.loads((tmp_path / "schema.json").read_text())
    assert written["nodes"] == shop()["nodes"] and written["constraints"] == shop()["constraints"]
    meta = written["metadata"]
    assert meta["description"] == (
        "Customers and their orders. Assumptions: one currency, EUR. Simplified: reviews text -> none."
    )
    assert meta["generated_by"].endswith(f"create (prompt v{prompt.PROMPT_VERSION}, model stub-model)")
    (req,) = stub.requests
    # the request: the DSL's JSON Schema as structured output (not strict), the key as a bearer token
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {SECRET}"
    fmt = req.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is False
    sent = fmt["json_schema"]["schema"]
    dsl = dataset_json_schema()
    assert {k: v for k, v in sent["$defs"].items() if k != "Dataset"} == dsl["$defs"]
    assert sent["$defs"]["Dataset"]["properties"] == dsl["properties"]
    assert sent["properties"]["schema"]["anyOf"][0] == {"$ref": "#/$defs/Dataset"}
    system, user = req.messages
    assert system["role"] == "system" and '"name": "shop_orders"' in system["content"]
    assert "Customers and their orders" in user["content"] and "about 10,000 rows" in user["content"]
    assert "Do not ask questions" in user["content"]  # no terminal here
    # the summary
    assert "assumed: one currency, EUR" in result.stderr
    assert "simplified: reviews text -> none" in result.stderr
    assert "orders fans out of customer" in result.stderr
    assert f"build it: dgsql build {tmp_path / 'schema.json'} -o out --seed 42" in result.stderr
    # a schema written by create is a schema like any other
    assert dg.cli("check", tmp_path / "schema.json").exit_code == 0
    built = dg.cli("build", tmp_path / "schema.json", "-o", tmp_path / "out", "--sample", "300")
    assert built.exit_code == 0, built.stderr
    assert (tmp_path / "out" / "orders.parquet").exists()


def test_invalid_json_then_a_schema(tmp_path: Path) -> None:
    with StubServer(
        [Reply('{"questions": [], "schema": {"version": "1.0", "nodes": ['), Reply(envelope(shop()))]
    ) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert len(stub.requests) == 2
    back = sent_problems(stub.requests[1])
    assert "$: the reply could not be read: it is not valid JSON" in back
    assert stub.requests[1].messages[-2]["role"] == "assistant"  # the draft it answers


def test_errors_fixed_in_round_two_and_yaml_out(tmp_path: Path, dg: Any) -> None:
    out = tmp_path / "shop.yaml"
    with StubServer([Reply(envelope(with_typo())), Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k", "-o", out)
    assert result.exit_code == 0, result.stderr
    back = sent_problems(stub.requests[1])
    assert "nodes[0].columns[1].generator.choice.wieghts: unknown key; did you mean 'weights'?" in back
    assert "round 1 of at most 4" in back
    assert "round 1: " in result.stderr and "did you mean 'weights'" in result.stderr
    loaded = yaml.safe_load(out.read_text())
    assert loaded["version"] == "1.0" and loaded["nodes"] == shop()["nodes"]
    assert dg.cli("check", out).exit_code == 0


def test_validation_failure_fixed_in_round_three(tmp_path: Path) -> None:
    script = [Reply(envelope(with_typo())), Reply(envelope(with_orphans())), Reply(envelope(shop()))]
    with StubServer(script) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert len(stub.requests) == 3
    back = sent_problems(stub.requests[2])
    assert "sample build of 1,000 rows" in back
    assert (
        "constraints.foreign_keys[0]: check foreign_key:orders.customer_id->customer.customer_id failed"
        in back
    )
    assert "failing rows" in back and "round 2 of at most 4" in back
    assert "after 3 rounds" in result.stderr


def test_questions_then_a_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command, "terminal", lambda: True)
    asks = envelope(None, questions=["How many customers?", "Which currency?", "A third one?"])
    with StubServer([Reply(asks), Reply(envelope(shop(), assumptions=["orders all year"]))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k", input="about 2000\n\n")
    assert result.exit_code == 0, result.stderr
    first, second = stub.requests
    assert "you may ask up to two short questions" in first.messages[1]["content"]
    answers = second.last_user
    assert "How many customers?\n  about 2000" in answers
    assert "Which currency?\n  (no answer: assume a sensible default" in answers
    assert "A third one?" not in answers  # at most two questions
    assert "1. How many customers?" in result.stderr
    assert "asked: How many customers? answered: about 2000" in result.stderr
    written = json.loads((tmp_path / "schema.json").read_text())
    assert "Assumptions: orders all year." in written["metadata"]["description"]


def test_no_questions_means_defaults_written_and_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "terminal", lambda: True)  # a terminal, but --no-questions
    asks = envelope(None, questions=["How many customers?"])
    later = envelope(shop(), assumptions=["2,000 customers", "prices in EUR"])
    with StubServer([Reply(asks), Reply(later)]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k", "--no-questions")
    assert result.exit_code == 0, result.stderr
    assert "Do not ask questions" in stub.requests[0].messages[1]["content"]
    assert "No one can answer questions here" in stub.requests[1].last_user
    assert "assumed: 2,000 customers" in result.stderr and "assumed: prices in EUR" in result.stderr
    description = json.loads((tmp_path / "schema.json").read_text())["metadata"]["description"]
    assert description.endswith("Assumptions: 2,000 customers; prices in EUR.")


def test_never_converging_saves_the_draft(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(with_typo()))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k", "--max-rounds", "2")
    assert result.exit_code == 1
    assert len(stub.requests) == 2
    assert not (tmp_path / "schema.json").exists()
    draft = json.loads((tmp_path / "schema.json.draft.json").read_text())
    assert draft["nodes"] == with_typo()["nodes"]
    assert (
        "error: nodes[0].columns[1].generator.choice.wieghts: unknown key; did you mean 'weights'?"
        in result.stderr
    )
    assert "schema.json.draft.json" in result.stderr


def test_429_then_success(tmp_path: Path) -> None:
    with StubServer([Status(429, "slow down", retry_after="0"), Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert len(stub.requests) == 2
    assert "HTTP 429: slow down; retrying" in result.stderr


def test_500s_until_the_retry_budget_ends(tmp_path: Path) -> None:
    with StubServer([Status(500, "boom")]) as stub:
        result = run(tmp_path, stub, "shop")
    assert result.exit_code == 3
    assert len(stub.requests) == 4  # one try and three retries
    (line,) = result.errors
    assert "keeps failing (HTTP 500: boom; 4 tries)" in line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "schema.json").exists()


def test_a_timeout(tmp_path: Path) -> None:
    with StubServer([Slow(1.5, Reply(envelope(shop())))]) as stub:
        result = run(tmp_path, stub, "shop", "--timeout", "0.2")
    assert result.exit_code == 3
    assert len(stub.requests) == 4
    (line,) = result.errors
    assert "did not answer within 0.2 s (4 tries); raise --timeout" in line


def test_unreachable_endpoint(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(tmp_path, f"http://127.0.0.1:{port}/v1", "shop")
    assert result.exit_code == 3
    (line,) = result.errors
    assert line.startswith(f"cannot reach http://127.0.0.1:{port}/v1") and "start the server" in line


def test_refusal_never_shows_the_key(tmp_path: Path) -> None:
    with StubServer([Status(401, f"invalid api key {SECRET}")]) as stub:
        result = run(tmp_path, stub, "shop")  # run() asserts the key is not printed
    assert result.exit_code == 3
    assert len(stub.requests) == 1  # a refusal is not retried
    (line,) = result.errors
    assert "refused the request (HTTP 401: invalid api key ***); check DGSQL_LLM_API_KEY" in line


def test_a_hostile_answer_is_stopped_by_the_front_end(tmp_path: Path) -> None:
    hostile = shop()
    hostile["nodes"][0]["id"] = "../../evil"
    hostile["nodes"][1]["columns"][3]["generator"] = {"expression": {"code": "1; DROP TABLE customer"}}
    hostile["nodes"][1]["columns"].append(
        {"name": "leak", "type": "string", "generator": {"expression": {"code": "read_csv('/etc/passwd')"}}}
    )
    huge = shop(rows=10**12)
    quoted = shop()  # SQL in a name is only a name: quoted, it builds
    name = 'amount"; DROP TABLE customer; --'
    quoted["nodes"][1]["columns"][3]["name"] = name
    quoted["constraints"]["ranges"][0]["attr"] = f"orders.{name}"
    with StubServer([Reply(envelope(hostile)), Reply(envelope(huge)), Reply(envelope(quoted))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    back = sent_problems(stub.requests[1])
    assert "nodes[0].id: '../../evil' cannot be a file name" in back
    assert "expression '1; DROP TABLE customer' must be a single expression" in back
    assert "read_csv('/etc/passwd')\": function 'read_csv' is not allowed" in back
    back = sent_problems(stub.requests[2])
    assert "nodes[0].rows: 1,000,000,000,000 rows is beyond the limit" in back
    assert not list(tmp_path.parent.glob("evil*"))
    written = json.loads((tmp_path / "schema.json").read_text())
    assert written["nodes"][1]["columns"][3]["name"] == name


def test_max_rows_problem_goes_back(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(shop(rows=3_000_000))), Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    back = sent_problems(stub.requests[1])
    assert (
        "nodes: the tables expect ~15,000,000 rows in total (orders ~12,000,000, customer ~3,000,000), "
        "above the limit of 10,000,000" in back
    )
    assert "about 10,000 rows in total" in stub.requests[0].messages[1]["content"]


def test_rows_far_from_the_request_go_back(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(shop())), Reply(envelope(shop(rows=200_000)))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "1M")
    assert result.exit_code == 0, result.stderr
    assert "but about 1,000,000 were asked for" in sent_problems(stub.requests[1])


def test_structured_output_falls_back_to_json_mode_then_text(tmp_path: Path) -> None:
    prose = "Sure! Here is the schema:\n\n```json\n" + json.dumps(shop(), indent=1) + "\n```\nEnjoy."
    with StubServer([Refuse(("json_schema", "json_object"), Reply(prose))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert [r.response_format for r in stub.requests] == ["json_schema", "json_object", "text"]
    assert "refused response_format json_schema (HTTP 400" in result.stderr
    assert "asking for json object instead" in result.stderr
    assert json.loads((tmp_path / "schema.json").read_text())["nodes"] == shop()["nodes"]


def test_json_mode_is_kept_for_later_rounds(tmp_path: Path) -> None:
    script = [
        Refuse(("json_schema",), Reply(envelope(with_typo()))),
        Refuse(("json_schema",), Reply(envelope(shop()))),
    ]
    with StubServer(script) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert [r.response_format for r in stub.requests] == ["json_schema", "json_object", "json_object"]


def test_build_writes_the_data(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(shop(rows=500)))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "2500", "--build", tmp_path / "data", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    meta = json.loads((tmp_path / "data" / ".metadata.json").read_text())
    assert meta["seed"] == 7 and meta["tables"]["customer"]["rows"] == 500
    assert "quality score" in result.stderr


def test_description_from_stdin_and_a_brief_file(tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("Orders are placed all year.\n")
    with StubServer([Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "-", "-f", brief, "--rows", "10k", input="Customers and orders\n")
    assert result.exit_code == 0, result.stderr
    content = stub.requests[0].messages[1]["content"]
    assert "<description>\nCustomers and orders\n\nOrders are placed all year.\n</description>" in content


def test_azure_style_base_url(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(shop()))]) as stub:
        url = stub.url.removesuffix("/v1") + "/openai/deployments/gpt-4o?api-version=2024-10-21"
        result = run(tmp_path, url, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    (req,) = stub.requests
    assert req.path == "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    assert req.headers["api-key"] == SECRET
    assert "api-version" not in result.stderr  # the query is not shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.txt"], "-o: x.txt: a schema file ends in .json, .yaml or .yml"),
        (["--rows", "20M"], "--rows: 20,000,000 is above --max-rows 10,000,000"),
        (["--rows", "lots"], "--rows: 'lots' is not a row count"),
        (["--base-url", "ftp://x/v1"], "--base-url: 'ftp://x/v1' is not an http(s) URL"),
    ],
)
def test_bad_arguments_exit_2_before_any_request(tmp_path: Path, args: list[str], message: str) -> None:
    with StubServer([Reply(envelope(shop()))]) as stub:
        url = [] if "--base-url" in args else ["--base-url", stub.url]
        out = [] if "-o" in args else ["-o", tmp_path / "schema.json"]
        result = cli("create", "shop", *args, *out, *url, "--model", "m")
    assert result.exit_code == 2
    assert result.errors == [next(e for e in result.errors if message in e)]
    assert stub.requests == []
    assert not list(tmp_path.iterdir())


def test_other_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with StubServer([Reply(envelope(shop()))]) as stub:
        existing = tmp_path / "schema.json"
        existing.write_text("{}")
        result = run(tmp_path, stub, "shop")
        assert result.exit_code == 2 and "exists; give another path, or --force" in result.errors[0]
        result = run(tmp_path, stub, "-o", tmp_path / "other.json")
        assert result.exit_code == 2 and "nothing describes the data" in result.errors[0]
        result = cli("create", "shop", "--base-url", stub.url, "-o", tmp_path / "m.json")
        assert result.exit_code == 2 and "--model: no model named" in result.errors[0]
        monkeypatch.delenv("DGSQL_LLM_API_KEY")
        result = cli("create", "shop", "--model", "m", "-o", tmp_path / "k.json")
        assert result.exit_code == 2 and "no API key for OpenAI" in result.errors[0]
        assert stub.requests == []
    assert existing.read_text() == "{}"


def test_no_key_for_a_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DGSQL_LLM_API_KEY")
    with StubServer([Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0, result.stderr
    assert stub.requests[0].headers["authorization"] == f"Bearer {create_client.NO_KEY}"


def test_missing_openai_package_gives_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # import openai raises ImportError
    with StubServer([Reply(envelope(shop()))]) as stub:
        result = run(tmp_path, stub, "shop")
    assert result.exit_code == 2
    assert result.errors == [
        "the openai package is not installed; pip install 'dgsql[llm]' (or pip install openai)."
    ]
    assert stub.requests == []


def test_model_refusal_and_control_characters(tmp_path: Path) -> None:
    with StubServer([Reply(None, refusal="I can't help with that.")]) as stub:
        result = run(tmp_path, stub, "shop")
    assert result.exit_code == 3 and result.errors == ["the model refused: I can't help with that."]
    evil = envelope(shop(), assumptions=["red \x1b[31m text"])
    with StubServer([Reply(evil)]) as stub:
        result = run(tmp_path, stub, "shop", "--rows", "10k")
    assert result.exit_code == 0 and "\x1b" not in result.stderr and "red ?[31m text" in result.stderr


# ------------------------------------------------------------------ the parts


def test_reply_extractor() -> None:
    schema = shop()
    fenced = f"Here is a schema for you.\n```json\n{json.dumps(schema)}\n```\nAsk me anything."
    assert read_reply(fenced).schema == schema
    assert read_reply(json.dumps(schema)).schema == schema  # bare schema
    prose = f"The schema: {json.dumps(envelope(schema, assumptions=['x']))} as requested."
    found = read_reply(prose)
    assert found.schema == schema and found.assumptions == ["x"]
    assert read_reply(json.dumps({"schema": json.dumps(schema)})).schema == schema  # double-encoded
    notes = read_reply(json.dumps({**envelope(schema), "explanation": "because"}))
    assert notes.notes == ["explanation: because"] and notes.schema == schema
    (p,) = read_reply("I would rather not.").problems
    assert str(p).startswith("$: the reply could not be read: it holds no JSON object (it starts 'I would")
    (p,) = read_reply('{"schema": {"version": "1.0",', "length").problems
    assert "cut off at the output token limit" in str(p)
    (p,) = read_reply(json.dumps(envelope(None))).problems
    assert str(p) == "reply.schema: missing (null) and no questions asked; answer with the schema."
    (p,) = read_reply(json.dumps(envelope([1, 2]))).problems  # type: ignore[arg-type]
    assert str(p) == "reply.schema: a JSON list, not an object; give the schema as an object."


def test_prompt_covers_the_dsl_and_ships_the_examples() -> None:
    system = prompt.system_message()["content"]
    for kind in GENERATOR_MODELS:
        assert f'{{"{kind}":' in system, kind
    for transform in MODIFIER_ARGS:
        assert f'"{transform}"' in system, transform
    for name in prompt.EXAMPLES:
        shipped = (ROOT / "src" / "dgsql" / "create" / "examples" / name).read_text()
        assert shipped == (ROOT / "examples" / name).read_text(), f"{name}: refresh the bundled copy"
        assert shipped.strip() in system
    assert prompt.TEMPLATE == f"prompt_v{prompt.PROMPT_VERSION}.md.j2"
    text = (ROOT / "src" / "dgsql" / "create" / prompt.TEMPLATE).read_text()
    assert f"prompt version {prompt.PROMPT_VERSION}" in text.splitlines()[0]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"create/*.j2"' in pyproject and '"create/examples/*.json"' in pyproject


def test_annotated_keeps_the_data_and_leaves_odd_metadata() -> None:
    outcome = Outcome(passed=False, schema=None, assumptions=["a."], simplifications=["b"])
    s = annotated(shop(), outcome, "m")
    assert s["metadata"]["description"] == "Customers and their orders. Assumptions: a. Simplified: b."
    assert {k: v for k, v in s.items() if k != "metadata"} == {
        k: v for k, v in shop().items() if k != "metadata"
    }
    odd = copy.deepcopy(shop())
    odd["metadata"] = "x"
    assert annotated(odd, outcome, "m") == odd


def test_counts() -> None:
    assert command.parse_count("100k", "--rows") == 100_000
    assert command.parse_count("2.5M", "--rows") == 2_500_000
    assert command.parse_count("1,000", "--rows") == 1000
    with pytest.raises(Exception, match="not a row count"):
        command.parse_count("0", "--rows")


def test_the_evaluation_harness_runs_against_the_stub(tmp_path: Path) -> None:
    with StubServer([Reply(envelope(shop(rows=20_000, lam=4.0)))]) as stub:
        out = tmp_path / "eval.md"
        done = subprocess.run(
            [sys.executable, "bench/create_eval.py", "--base-url", stub.url, "--model", "stub-model",
             "--limit", "2", "--max-rounds", "1", "--report", out],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    text = out.read_text()
    assert "| retail |" in text and "| saas |" in text
    assert text.count("| yes | yes |") == 2
    assert len(stub.requests) == 2


def test_yaml_written_reads_back_as_the_same_schema(tmp_path: Path, dg: Any) -> None:
    s = shop()
    words = ["yes", "no", "on", "off", "null", "~", "1.0", "0x10", "2024-01-01", "a: b", "#x", "é"]
    s["nodes"][0]["columns"][1]["generator"]["choice"] = {"choices": words, "weights_kind": "uniform"}
    s["nodes"][0]["columns"][1]["modifiers"] = [
        {"transform": "map_values", "args": {"mapping": {"yes": "no", "1.0": None}}}
    ]
    s["nodes"][0]["columns"][1]["nullable"] = True
    out = tmp_path / "tricky.yml"
    command.write_schema(out, s)
    assert read_source(out)[0] == s
    assert dg.cli("check", out).exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["tricky.yml"]  # no temporary file left


def test_configuration_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DGSQL_LLM_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # the fallback
    monkeypatch.setenv("DGSQL_LLM_MODEL", "env-model")
    with StubServer([Reply(envelope(shop()))]) as stub:
        monkeypatch.setenv("DGSQL_LLM_BASE_URL", stub.url)
        result = cli("create", "shop", "--rows", "10k", "-o", tmp_path / "s.json")
    assert result.exit_code == 0, result.stderr
    (req,) = stub.requests
    assert req.body["model"] == "env-model" and req.headers["authorization"] == f"Bearer {SECRET}"
    assert f"model env-model at {stub.url}" in result.stderr


def test_doctests() -> None:
    import doctest

    from dgsql.create import reply

    for module in (reply, command):
        assert doctest.testmod(module).failed == 0
