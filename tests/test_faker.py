"""The ``faker`` generator: composed values per locale, e-mails, formats, determinism, errors."""

from __future__ import annotations

import collections
import copy
import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from dgsql.compiler import compile_schema
from dgsql.compiler.faker.locales import runtime_locales, to_locale
from dgsql.compiler.generators.faker import problems as faker_problems
from dgsql.dsl import model as S
from dgsql.errors import SchemaError

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
if not EXAMPLES.exists():
    EXAMPLES = Path("/work/shared/examples")


def dataset(columns: list[dict], rows: int = 1000, unique: list[str] | None = None, table: str = "t") -> dict:
    return {
        "version": "1.0",
        "metadata": {"name": "faker_test"},
        "nodes": [{"id": table, "kind": "entity", "rows": rows, "columns": columns}],
        "constraints": {"unique": unique or []},
    }


def faker(name: str, method: str, **extra) -> dict:
    return {
        "name": name,
        "type": extra.pop("type", "string"),
        "generator": {"faker": {"method": method, **extra}},
    }


def countries(*codes: str) -> dict:
    return {"name": "country", "type": "string", "generator": {"choice": {"choices": list(codes)}}}


def script(tmp_path: Path, schema: dict, seed: int = 42) -> str:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    return compile_schema(path, seed=seed, out_dir=str(tmp_path / "out")).script.text


def build(tmp_path: Path, schema: dict, seed: int = 42, table: str = "t") -> list[dict]:
    text = script(tmp_path, schema, seed)
    con = duckdb.connect()
    con.execute(text)
    rel = con.sql(f"SELECT * FROM '{tmp_path}/out/{table}.parquet'")
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


# ------------------------------------------------------------------ locales


def test_country_codes_map_to_locales():
    assert to_locale("US") == "en_US"
    assert to_locale("UK") == to_locale("GB") == "en_GB"
    assert to_locale("cz") == "cs_CZ"
    assert to_locale("BR") == "pt_BR"
    assert to_locale("pt_BR") == "pt_BR"
    assert to_locale("de-AT") == "de_AT"
    assert to_locale("Atlantis") == to_locale(None) == "en_US"
    for code in [
        "ES",
        "IT",
        "NL",
        "PL",
        "PT",
        "MX",
        "JP",
        "CN",
        "KR",
        "IN",
        "CA",
        "AU",
        "SE",
        "NO",
        "DK",
        "FI",
    ]:
        assert to_locale(code) != "en_US" or code == "US"
    assert runtime_locales()[0] == "en_US"


def test_each_row_uses_its_own_locale(tmp_path):
    cols = [
        countries("CZ", "DE", "US", "JP"),
        faker("name", "name", locale_from="country"),
        faker("address", "address", locale_from="country"),
        faker("postcode", "postcode", locale_from="country"),
    ]
    rows = build(tmp_path, dataset(cols, rows=4000))
    by = {c: [r for r in rows if r["country"] == c] for c in ("CZ", "DE", "US", "JP")}
    cz_diacritics = sum(bool(re.search(r"[^\x00-\x7f]", r["name"])) for r in by["CZ"]) / len(by["CZ"])
    assert cz_diacritics > 0.5, "Czech names carry diacritics"
    assert all(re.fullmatch(r"\d{5}", r["postcode"]) for r in by["DE"])
    assert all(re.search(r"\n\d{5} \S", r["address"]) for r in by["DE"]), "German addresses: 5-digit postcode"
    us_civil = [r for r in by["US"] if not re.search(r"\b(FPO|APO|DPO)\b", r["address"])]
    assert len(us_civil) > 0.8 * len(by["US"])
    assert all(re.search(r", [A-Z]{2} \d{5}$", r["address"]) for r in us_civil), "US addresses end 'ST 12345'"
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", r["name"]) for r in by["JP"]), "Japanese script"
    assert not any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", r["name"]) for r in by["US"])


def test_locale_traced_through_lookup_embeds_only_those_locales(tmp_path):
    schema = {
        "version": "1.0",
        "metadata": {"name": "traced"},
        "nodes": [
            {"id": "store", "kind": "entity", "rows": 10, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {}}},
                countries("DE", "CZ"),
            ]},
            {"id": "person", "kind": "entity", "rows": 200, "columns": [
                {"name": "store_id", "type": "int", "generator": {"lookup": {"from": "store.id"}}},
                {"name": "country", "type": "string",
                 "generator": {"lookup": {"from": "store.country", "on": {"this_key": "id"}}}},
                faker("name", "name", locale_from="country"),
            ]},
        ],
    }  # fmt: skip
    schema["nodes"][1]["columns"][1]["generator"]["lookup"]["on"] = {"store_id": "id"}
    text = script(tmp_path, schema)
    assert '"de_DE_' in text and '"cs_CZ_' in text
    assert '"fr_FR_' not in text and "__dg_fk_locale_keys" not in text


def test_untraceable_locale_column_is_mapped_at_run_time(tmp_path):
    cols = [
        {
            "name": "code",
            "type": "string",
            "generator": {"choice": {"choices": ["cz", "CZ", "cs_CZ", "xx", "DE"]}},
        },
        {"name": "country", "type": "string", "generator": {"expression": {"code": "code"}}},
        faker("name", "last_name", locale_from="country"),
    ]
    schema = dataset(cols, rows=2000)
    text = script(tmp_path, schema)
    assert "__dg_fk_locale_keys" in text
    assert "(SELECT i FROM" not in text.split("COPY (")[-1], "the key lists ride in the joined table"
    rows = build(tmp_path, schema)
    cz = [r["name"] for r in rows if r["code"] in ("cz", "CZ", "cs_CZ")]
    assert sum(bool(re.search(r"[ěščřžýáíéůú]", n)) for n in cz) > 0.3 * len(cz)
    xx = [r["name"] for r in rows if r["code"] == "xx"]
    assert all(re.fullmatch(r"[A-Za-z' -]+", n) for n in xx), "unknown codes fall back to en_US"


# ------------------------------------------------------------------ realism


def test_a_section_builds_its_vocabularies_once_and_each_row_value_once_per_layer(tmp_path):
    text = script(tmp_path, json.loads((EXAMPLES / "users_events.json").read_text()))
    users = text[text.index("-- users (nodes[0])") : text.index("-- events (nodes[1])")]
    created = re.findall(r'CREATE OR REPLACE TEMP TABLE "([^"]+)"', users)
    # one table of every list the section reads, then one table of the lists each column reads
    assert created[0] == "__dg_vocab_users"
    assert len(created) == 4 and all(name.startswith("__dg_fk_j_") for name in created[1:])
    assert users.count(" AS t0") == 1 and '"en_US_first_names_female_v"' in users
    # the draws' hashes and the locale index are columns of a CTE before the layer that reads them
    hashes = re.findall(r"hash\(__dg_l\d\.__dg_row \+ \d+\)", users)
    assert len(hashes) >= 20 and len(hashes) == len(set(hashes))
    assert users.count('CASE CAST(__dg_l1."country" AS VARCHAR)') == 1
    assert "FROM __dg_l1_lets AS __dg_l1" in users


def test_full_names_are_diverse(tmp_path):
    rows = 200_000
    text = script(tmp_path, dataset([faker("name", "name")], rows=rows))
    con = duckdb.connect()
    con.execute(text)
    distinct = con.execute(f"SELECT count(DISTINCT name) FROM '{tmp_path}/out/t.parquet'").fetchone()[0]
    assert distinct >= 0.5 * rows


def test_email_agrees_with_name_columns(tmp_path):
    cols = [
        countries("US", "DE", "CZ", "RU", "JP"),
        faker("first_name", "first_name", locale_from="country"),
        faker("last_name", "last_name", locale_from="country"),
        faker("email", "email"),
    ]
    rows = build(tmp_path, dataset(cols, rows=3000))
    agree = 0
    for r in rows:
        local = r["email"].split("@")[0]
        assert re.fullmatch(r"[a-z0-9._]+", local), r["email"]
        if r["country"] in ("US", "DE", "CZ"):
            import unicodedata

            def fold(s: str, german: bool) -> str:
                if german:  # de_DE folds umlauts to two letters; cs_CZ (a Czech "Müller") does not
                    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
                return re.sub(
                    r"[^a-z]", "", unicodedata.normalize("NFKD", s.lower()).encode("ascii", "ignore").decode()
                )

            german = r["country"] == "DE"
            first, last = fold(r["first_name"], german), fold(r["last_name"], german)
            agree += last in local and (first in local or local.startswith(first[:1]))
            assert last in local or first in local, (r["first_name"], r["last_name"], r["email"])
    assert agree > 0.6 * sum(r["country"] in ("US", "DE", "CZ") for r in rows)
    de = [r["email"] for r in rows if r["country"] == "DE"]
    assert sum(e.endswith(".de") for e in de) > 0.5 * len(de), "the domain follows the person's locale"


def test_email_from_full_name_column(tmp_path):
    rows = build(tmp_path, dataset([faker("name", "name"), faker("email", "email")], rows=2000))
    hits = 0
    for r in rows:
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", r["name"])]
        hits += any(len(w) > 2 and w in r["email"] for w in words)
    assert hits > 0.95 * len(rows)


def test_email_without_name_columns(tmp_path):
    rows = build(tmp_path, dataset([faker("email", "email", locale="DE")], rows=500))
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", r["email"]) for r in rows)


@pytest.mark.parametrize("rows", [100_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
def test_declared_unique_emails_are_unique(tmp_path, rows):
    cols = [countries("US", "DE"), faker("name", "name", locale_from="country"), faker("email", "email")]
    text = script(tmp_path, dataset(cols, rows=rows, unique=["t.email"]))
    con = duckdb.connect()
    con.execute(text)
    total, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT email) FROM '{tmp_path}/out/t.parquet'"
    ).fetchone()
    assert total == distinct == rows


def test_user_name_is_ascii(tmp_path):
    rows = build(
        tmp_path, dataset([countries("CZ", "JP"), faker("u", "user_name", locale_from="country")], 300)
    )
    assert all(re.fullmatch(r"[a-z0-9._]+", r["u"]) for r in rows)


# ------------------------------------------------------------------ formats


def test_formats(tmp_path):
    cols = [
        faker("uuid", "uuid4"),
        faker("ip", "ipv4"),
        faker("badge", "bothify", text="DEV-####-??"),
        faker("num", "numerify", text="%##"),
        faker("lex", "lexify", text="??-??", letters="XYZ"),
        faker("iban", "iban", locale="DE"),
        faker("phone", "phone_number"),
        faker("sentence", "sentence"),
        faker("word", "word"),
        faker("plate", "license_plate"),
        faker("url", "url"),
        faker("domain", "domain_name"),
        faker("ua", "user_agent"),
        faker("job", "job"),
        faker("cp", "catch_phrase"),
        faker("country", "country"),
        faker("state", "state"),
        faker("zip", "zipcode"),
        faker("street", "street_address"),
    ]
    rows = build(tmp_path, dataset(cols, rows=5000))
    uuids = [r["uuid"] for r in rows]
    assert len(set(uuids)) == len(uuids)
    for r in rows:
        u = uuid.UUID(r["uuid"])
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == r["uuid"]
        octets = [int(x) for x in r["ip"].split(".")]
        assert len(octets) == 4 and all(0 <= o <= 255 for o in octets) and octets[0] not in (0, 10, 127)
        assert re.fullmatch(r"DEV-\d{4}-[A-Za-z]{2}", r["badge"])
        assert re.fullmatch(r"[1-9]\d\d", r["num"])
        assert re.fullmatch(r"[XYZ]{2}-[XYZ]{2}", r["lex"])
        iban = r["iban"]
        assert re.fullmatch(r"DE\d{20}", iban)
        moved = iban[4:] + iban[:4]
        assert int("".join(str(int(c, 36)) for c in moved)) % 97 == 1, iban
        assert re.fullmatch(r"[A-Z][A-Za-z]*( [A-Za-z]+)*\.", r["sentence"])
        assert re.fullmatch(r"https?://(www\.)?[a-z]+\.[a-z]+/", r["url"])
        assert re.fullmatch(r"[a-z]+\.[a-z]+", r["domain"])
        assert re.fullmatch(r"\d{5}", r["zip"])
        assert "$" not in r["phone"] and re.search(r"\d{3}", r["phone"])
    assert len({r["ua"] for r in rows}) > 500
    assert len({r["street"] for r in rows}) > 0.95 * len(rows)


def _format_regex(fmt: str) -> str:
    """A Faker numerify format (``#`` a digit, ``%`` 1-9, ``$`` 2-9) as a regex."""
    return "".join({"#": r"\d", "%": "[1-9]", "$": "[2-9]"}.get(c, re.escape(c)) for c in fmt)


def test_many_formats_are_drawn_by_index(tmp_path):
    """es_ES has 558 phone formats, it_IT 4,682 postcodes: every value is one of Faker's, and many
    formats show up (a branch index drawn once, not a 558-way CASE)."""
    from faker import Faker

    phones = list(Faker("es_ES").provider("faker.providers.phone_number").formats)
    postcodes = set(Faker("it_IT").provider("faker.providers.address").postcode_formats)
    cols = [faker("phone", "phone_number", locale="ES"), faker("cap", "postcode", locale="IT")]
    text = script(tmp_path, dataset(cols, rows=20_000))
    assert len(text) < 200_000, "4,682 postcodes are embedded as one split string, not 4,682 literals"
    rows = build(tmp_path, dataset(cols, rows=20_000))
    pattern = re.compile("|".join(f"({_format_regex(f)})" for f in phones))
    used = set()
    for r in rows:
        m = pattern.fullmatch(r["phone"])
        assert m, r["phone"]
        used.add(m.lastindex)
        assert r["cap"] in postcodes
    assert len(used) > 300
    assert len({r["cap"] for r in rows}) > 3000


def test_phone_numbers_follow_their_locale_formats(tmp_path):
    """Every locale whose phone numbers are Faker's generic numerify formats, in one column: each
    value matches one of its row's locale's formats (the formats of all locales are aligned and
    read by index, so a misplaced separator or digit run would show here)."""
    from faker.providers import phone_number as phone_p

    from dgsql.compiler.faker.compose import provider_method

    codes = {}
    for locale in runtime_locales():
        method = provider_method(locale, "phone_number")
        if method is not None and method.__func__ is phone_p.Provider.phone_number:
            formats = list(method.__self__.formats)
            if all("{{" not in f for f in formats):
                codes[locale] = re.compile("|".join(_format_regex(f) for f in formats))
    assert len(codes) > 25
    cols = [countries(*codes), faker("phone", "phone_number", locale_from="country")]
    for r in build(tmp_path, dataset(cols, rows=20_000)):
        assert codes[r["country"]].fullmatch(r["phone"]), (r["country"], r["phone"])


def test_license_plates_follow_their_formats(tmp_path):
    from faker import Faker

    formats = list(Faker("en_US").provider("faker.providers.automotive").license_formats)
    letters = {"?": "[A-Z]", "#": r"\d"}
    pattern = re.compile("|".join("".join(letters.get(c, re.escape(c)) for c in f) for f in formats))
    rows = build(tmp_path, dataset([faker("plate", "license_plate")], rows=5000))
    assert all(pattern.fullmatch(r["plate"]) for r in rows)
    assert len({r["plate"] for r in rows}) > 0.99 * len(rows)


def test_long_digit_runs_are_uniform(tmp_path):
    rows = build(tmp_path, dataset([faker("n", "numerify", text="##########-%")], rows=20_000))
    assert all(re.fullmatch(r"\d{10}-[1-9]", r["n"]) for r in rows)
    for position in (0, 5, 9, 11):
        counts = collections.Counter(r["n"][position] for r in rows)
        assert len(counts) == (9 if position == 11 else 10)
        assert max(counts.values()) < 1.15 * min(counts.values()) * (1 if position == 11 else 1)


def test_each_locale_draws_from_its_own_lists(tmp_path):
    """Several locales in one column: every value comes from its row's locale's list (the locales'
    lists are read through one union list, by offset)."""
    from faker import Faker

    codes = {"US": "en_US", "DE": "de_DE", "FR": "fr_FR", "CZ": "cs_CZ", "JP": "ja_JP"}
    cols = [
        countries(*codes),
        faker("first", "first_name", locale_from="country"),
        faker("last", "last_name", locale_from="country"),
        faker("job", "job", locale_from="country"),
    ]
    rows = build(tmp_path, dataset(cols, rows=5000))
    for code, locale in codes.items():
        fake = Faker(locale)
        firsts = set(fake.provider("faker.providers.person").first_names)
        lasts = set(fake.provider("faker.providers.person").last_names)
        jobs = set(fake.provider("faker.providers.job").jobs)
        mine = [r for r in rows if r["country"] == code]
        assert mine and all(r["first"] in firsts for r in mine), code
        assert all(r["last"] in lasts for r in mine), code
        assert all(r["job"] in jobs for r in mine), code


@pytest.mark.parametrize("method", ["name", "first_name", "last_name", "job", "company", "city"])
def test_several_locales_give_each_locale_its_own_values(tmp_path, method):
    """A row of locale L gets the very value a column of locale L alone gives (same seed, same
    column): the shared rendering of several locales reads each locale's own lists and bounds."""
    for sub in ("m", "US", "DE", "JP"):
        (tmp_path / sub).mkdir()
    mixed = build(
        tmp_path / "m",
        dataset(
            [countries("US", "DE", "FR", "CZ", "JP"), faker("v", method, locale_from="country")], rows=3000
        ),
    )
    for code in ("US", "DE", "JP"):
        alone = build(tmp_path / code, dataset([countries("US"), faker("v", method, locale=code)], rows=3000))
        pairs = [(m["v"], a["v"]) for m, a in zip(mixed, alone, strict=True) if m["country"] == code]
        assert pairs and all(x == y for x, y in pairs), (code, [p for p in pairs if p[0] != p[1]][:3])


def test_upper_case_postcodes_are_upper_cased_at_compile_time(tmp_path):
    text = script(tmp_path, dataset([faker("pc", "postcode", locale="GB")], rows=2000))
    assert "upper(" not in text.split("COPY (")[-1]
    rows = build(tmp_path, dataset([faker("pc", "postcode", locale="GB")], rows=2000))
    assert all(re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", r["pc"]) for r in rows), rows[:5]


def test_unique_emails_in_a_table_of_unknown_size(tmp_path):
    """Without a row count known at compile time (a fact's fanout) the serial is dg_fk_serial."""
    schema = {
        "version": "1.0",
        "metadata": {"name": "fanout"},
        "nodes": [
            {"id": "users", "kind": "entity", "rows": 300, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
            ]},
            {"id": "contacts", "kind": "fact", "parents": ["users"], "pk": "email",
             "fanout": {"distribution": "uniform", "min": 1, "max": 30}, "columns": [
                {"name": "user_id", "type": "int", "generator": {"lookup": {"from": "users.id"}}},
                faker("name", "name"),
                faker("email", "email"),
            ]},
        ],
    }  # fmt: skip
    assert "dg_fk_serial(" in script(tmp_path, schema)
    rows = build(tmp_path, schema, table="contacts")
    assert len(rows) > 300 and len({r["email"] for r in rows}) == len(rows)


def test_other_methods_are_pools_with_their_types(tmp_path):
    from faker.providers.color.en_US import Provider as Colors

    cols = [faker("color", "color_name"), faker("n", "random_int", type="int", min=5, max=9)]
    rows = build(tmp_path, dataset(cols, rows=3000))
    names = set(Colors.all_colors)
    assert {r["color"] for r in rows} <= names and len({r["color"] for r in rows}) > 50
    assert {r["n"] for r in rows} == {5, 6, 7, 8, 9}


# ------------------------------------------------------------------ determinism, examples, CLI


def test_same_seed_same_script_and_data(tmp_path):
    cols = [countries("US", "FR", "CZ"), faker("name", "name", locale_from="country"), faker("email", "email"),
            faker("color", "color_name"), faker("uuid", "uuid4")]  # fmt: skip
    schema = dataset(cols, rows=2000)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert script(a, schema) == script(b, schema).replace(str(b), str(a))
    assert build(a, schema) == build(b, schema)
    assert build(a, schema, seed=7) != build(b, schema)


_LISTS = """
import hashlib, json
from faker import Faker
from dgsql.compiler.faker.locales import runtime_locales
out = {}
for locale in runtime_locales():
    for p in Faker(locale).get_providers():
        for cls in type(p).__mro__:
            for name, v in vars(cls).items():
                if isinstance(v, (list, tuple, set, frozenset, dict, type({}.keys()))) and not name.startswith("_"):
                    key = f"{locale} {type(p).__module__} {cls.__name__}.{name}"
                    out[key] = hashlib.md5(repr(list(v)).encode()).hexdigest()
print(json.dumps(out))
"""


def test_no_faker_list_depends_on_the_hash_seed(tmp_path):
    """Same seed, same script in any process: Faker lists whose order follows Python's string
    hashing (built from a set) are sorted (HASH_ORDERED), and they are the only ones."""
    import os
    import sys

    from dgsql.compiler.faker.compose import HASH_ORDERED

    def run(code: str, seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout

    a, b = (json.loads(run(_LISTS, seed)) for seed in ("1", "2"))
    moved = {k.split()[0] + " " + k.split(".")[-1] for k in a if a[k] != b[k]}
    assert moved <= {f"{loc} {attr}" for loc, (_, attr) in HASH_ORDERED.items()}, moved
    schema = dataset([countries("IT", "US"), faker("city", "city", locale_from="country")], rows=10)
    (tmp_path / "s.json").write_text(json.dumps(schema))
    code = (
        "from pathlib import Path; from dgsql.compiler import compile_schema; "
        f"print(compile_schema(Path({str(tmp_path / 's.json')!r}), seed=42, out_dir='out').script.text)"
    )
    assert run(code, "1") == run(code, "2")


def _without_effects(schema: dict) -> dict:
    schema = copy.deepcopy(schema)
    for node in schema["nodes"]:
        node["modifiers"] = [m for m in node.get("modifiers", []) if m["transform"] != "effect"]
        for col in node["columns"]:
            col["modifiers"] = [m for m in col.get("modifiers", []) if m["transform"] != "effect"]
    return schema


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_shared_examples_build(tmp_path, example):
    schema = json.loads((EXAMPLES / example).read_text())
    try:
        text = script(tmp_path, schema)
    except SchemaError as e:
        if "not supported yet" not in str(e):
            raise
        text = script(tmp_path, _without_effects(schema))
    duckdb.connect().execute(text)
    for node in schema["nodes"]:
        assert (tmp_path / "out" / f"{node['id']}.parquet").exists()


@pytest.mark.skipif(shutil.which("duckdb") is None, reason="duckdb CLI not on PATH")
def test_cli_gives_the_same_rows(tmp_path):
    cols = [countries("US", "DE", "JP"), faker("name", "name", locale_from="country"), faker("email", "email"),
            faker("address", "address", locale_from="country"), faker("uuid", "uuid4"), faker("iban", "iban")]  # fmt: skip
    schema = dataset(cols, rows=3000, unique=["t.email"])
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "build.sql").write_text(
        script(tmp_path / "cli", schema).replace(str(tmp_path / "cli") + "/", "")
    )
    subprocess.run(["duckdb", "-c", ".read build.sql"], cwd=tmp_path / "cli", check=True, capture_output=True)
    expected = build(tmp_path, schema)
    rel = duckdb.sql(f"SELECT * FROM '{tmp_path}/cli/out/t.parquet'")
    assert [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()] == expected


# ------------------------------------------------------------------ problems


def problems_of(*columns: dict, unique: list[str] | None = None) -> list[str]:
    """``problems()`` of the last column, as ``path: message`` lines."""
    ds = S.Dataset.model_validate(dataset(list(columns), unique=unique))
    node = ds.nodes[0]
    column = node.columns[-1]
    path = f"nodes[0].columns[{len(node.columns) - 1}]"
    return [str(p) for p in faker_problems(column.generator.faker, column, node, ds, path)]


@pytest.mark.parametrize(
    "method, extra, problem",
    [
        ("fullname", {}, "generator.faker.method: 'fullname' is not a Faker method; did you mean 'name'?"),
        ("nmae", {}, "generator.faker.method: 'nmae' is not a Faker method; did you mean 'name'?"),
        ("firstName", {}, "generator.faker.method: 'firstName' is not a Faker method; did you mean 'first_name'?"),
        ("phone", {}, "generator.faker.method: 'phone' is not a Faker method; did you mean 'phone_number'?"),
        ("_private", {}, "generator.faker.method: '_private' is private to Faker; use a public Faker method"),
        ("__class__", {}, "generator.faker.method: '__class__' is private to Faker"),
        ("seed_instance", {}, "generator.faker.method: 'seed_instance' is not a Faker method"),
        ("add_provider", {}, "generator.faker.method: 'add_provider' is not a Faker method"),
        ("pyint", {"maximum": 3}, "generator.faker.maximum: pyint() takes no argument 'maximum'; its arguments"),
        ("random_element", {"colour": "x"}, "generator.faker.colour: random_element() takes no argument 'colour'"),
        ("random_int", {"min": 9, "max": 5}, "generator.faker: random_int() cannot be generated: Faker's random_int() failed"),
    ],
)  # fmt: skip
def test_bad_methods_are_problems(method, extra, problem):
    found = problems_of(faker("x", method, **extra))
    assert len(found) == 1 and found[0].startswith("nodes[0].columns[0]." + problem), found


def test_every_unknown_argument_and_the_missing_ones_are_problems():
    found = problems_of(faker("x", "pystr_format", colour="red", size=3))
    assert found == [
        "nodes[0].columns[0].generator.faker.colour: pystr_format() takes no argument 'colour'; "
        "its arguments are: string_format, letters",
        "nodes[0].columns[0].generator.faker.size: pystr_format() takes no argument 'size'; "
        "its arguments are: string_format, letters",
    ]
    assert problems_of(faker("x", "enum")) == [
        "nodes[0].columns[0].generator.faker: enum() needs enum_cls; give it as extra keys next to method"
    ]
    assert problems_of(faker("x", "enum", colour="red")) == [
        "nodes[0].columns[0].generator.faker.colour: enum() takes no argument 'colour'; its arguments are: enum_cls",
        "nodes[0].columns[0].generator.faker: enum() needs enum_cls; give it as extra keys next to method",
    ]


def test_locale_and_locale_from_together_are_a_problem_beside_the_others():
    found = problems_of(countries("US", "DE"), faker("x", "fullname", locale="de", locale_from="country"))
    assert found == [
        "nodes[0].columns[1].generator.faker: give locale or locale_from, not both",
        "nodes[0].columns[1].generator.faker.method: 'fullname' is not a Faker method; did you mean 'name'?",
    ]


@pytest.mark.parametrize(
    "column, problem",
    [
        (faker("x", "name", type="int"), "name() gives text; declare the column as string"),
        (faker("x", "email", type="int"), "email() gives text; declare the column as string"),
        (faker("x", "numerify", type="int", text="EMP-###"), "numerify() gives text; declare the column as string"),
        (faker("x", "color_name", type="float"), "color_name() gives values like"),
    ],
)  # fmt: skip
def test_values_the_column_type_cannot_hold_are_problems(column, problem):
    found = problems_of(column)
    assert len(found) == 1 and found[0].startswith("nodes[0].columns[0].type: " + problem), found


def test_valid_columns_have_no_problems():
    cols = [countries("US", "DE", "JP"), faker("name", "name", locale_from="country"),
            faker("email", "email"), faker("n", "random_int", type="int", min=5, max=9),
            faker("d", "numerify", type="int", text="%###"), faker("b", "bothify", text="EMP-####-??"),
            faker("c", "city", locale="cz"), faker("s", "email", safe=True), faker("u", "uuid4")]  # fmt: skip
    for i in range(1, len(cols)):
        assert problems_of(*cols[: i + 1], unique=["t.email"]) == [], cols[i]


def test_columns_without_problems_render(tmp_path):
    """render() raises no schema error once problems() is empty (here: a method of another locale,
    a pool with arguments, every run-time locale)."""
    cols = [faker("cc", "country_code"), faker("p", "prefecture", locale="ja_JP"),
            faker("n", "random_int", type="int", min=5, max=9), faker("a", "address", locale_from="cc")]  # fmt: skip
    for i in range(len(cols)):
        assert problems_of(*cols[: i + 1]) == []
    rows = build(tmp_path, dataset(cols, rows=50))
    assert len(rows) == 50 and {r["n"] for r in rows} <= {5, 6, 7, 8, 9}


@pytest.mark.parametrize("method, extra", [("nmae", {}), ("_private", {}), ("pyint", {"maximum": 3})])
def test_bad_methods_are_schema_errors(tmp_path, method, extra):
    with pytest.raises(SchemaError) as err:
        script(tmp_path, dataset([faker("x", method, **extra)]))
    assert "nodes[0].columns[0].generator.faker" in str(err.value)


def test_text_method_into_int_column_is_a_schema_error(tmp_path):
    with pytest.raises(SchemaError, match=r"columns\[0\]\.type: .*declare the column as string"):
        script(tmp_path, dataset([faker("x", "name", type="int")]))


def test_vocabulary_columns_stay_distinct_when_keys_slug_alike():
    """DuckDB renames a duplicate column of CREATE TABLE AS silently, so two keys that slug to
    the same name (or differ only in case) must still name distinct columns."""
    from dgsql.compiler.faker.vocab import VocabLists, make_vocab

    lists = VocabLists('"t"')
    keys = ["a.b", "a b", "a_b_1", "A.B", "en_US.first_names", "en_us.first_names"]
    vocabs = [make_vocab(k, [k, "x"]) for k in keys]
    names = [lists.column(v, "v") for v in vocabs]
    assert len({n.lower() for n in names}) == len(keys)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS {lists.query()}")
    for vocab, name in zip(vocabs, names, strict=True):
        assert con.execute(f"SELECT {name} FROM t").fetchone()[0] == [vocab.key, "x"]


def test_shared_row_values_change_no_value(tmp_path, monkeypatch):
    """The lets CTE only names what the columns computed inline before: same rows without it."""
    from dgsql.compiler.context import ColumnContext

    schema = json.loads((EXAMPLES / "users_events.json").read_text())
    (tmp_path / "lets").mkdir()
    (tmp_path / "inline").mkdir()
    shared = build(tmp_path / "lets", schema, table="users")
    monkeypatch.setattr(ColumnContext, "let", lambda self, sql: sql)
    assert "_lets" not in script(tmp_path / "inline", schema)
    assert build(tmp_path / "inline", schema, table="users") == shared


def test_date_pools_do_not_depend_on_the_wall_clock(tmp_path):
    """Faker's date() and date_time() end at "now": pools are drawn with a frozen clock, so a
    run on another day (here a clock moved to 2031) writes the same script."""
    schema = dataset(
        [faker("d", "date", type="date"), faker("t", "date_time"), faker("e", "credit_card_expire")]
    )
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    run = (
        "import datetime as real, sys\n"
        "import faker.providers.date_time as clock\n"
        "class Later(real.datetime):\n"
        "    @classmethod\n"
        "    def now(cls, tz=None): return real.datetime(2031, 5, 5)\n"
        "{patch}"
        "from pathlib import Path; from dgsql.compiler import compile_schema\n"
        f"print(compile_schema(Path({str(path)!r}), seed=42, out_dir='out').script.text)\n"
    )
    today, later = (
        subprocess.run(
            [sys.executable, "-c", run.format(patch=patch)], capture_output=True, text=True, check=True
        )
        for patch in ("", "clock.datetime = Later\n")
    )
    assert today.stdout == later.stdout
