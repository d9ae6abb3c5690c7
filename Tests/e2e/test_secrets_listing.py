"""Secrets Manager listing: ListSecrets (fields, every filter key, negation, AND/OR, IncludePlannedDeletion,
SortBy/SortOrder, pagination) and BatchGetSecretValue (ids or filters, partial errors).

The server is shared with other tests: every test works under its own random name prefix and only looks at
its own secrets."""
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, force_delete_secret, sm_client


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


@pytest.fixture
def made(sm):
    """make(name, **create_kwargs) creates a secret and removes it after the test."""
    names = []

    def make(name, **kw):
        if "SecretBinary" not in kw:
            kw.setdefault("SecretString", "value-of-" + name)
        out = sm.create_secret(Name=name, **kw)
        names.append(name)
        return out
    yield make
    for n in names:
        force_delete_secret(sm, n)


def _tag():
    return "t" + uuid.uuid4().hex[:10]


def _list_all(sm, **kw):
    out, token = [], None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        page = sm.list_secrets(**args)
        out += page["SecretList"]
        token = page.get("NextToken")
        if not token:
            return out


def _names(sm, filters, mine, **kw):
    """The names of `mine` that ListSecrets with `filters` returns."""
    return {s["Name"] for s in _list_all(sm, Filters=filters, **kw)} & set(mine)


def test_list_entry_fields(sm, made):
    t = _tag()
    name = f"{t}/fields"
    created = made(name, Description="listed secret", Tags=[{"Key": "k1", "Value": "v1"}])
    v2 = sm.put_secret_value(SecretId=name, SecretString="second")["VersionId"]
    entries = [s for s in _list_all(sm, Filters=[{"Key": "name", "Values": [t]}]) if s["Name"] == name]
    assert len(entries) == 1
    e = entries[0]
    assert e["ARN"] == created["ARN"]
    assert e["Description"] == "listed secret"
    assert e["Tags"] == [{"Key": "k1", "Value": "v1"}]
    assert {k: sorted(v) for k, v in e["SecretVersionsToStages"].items()} == {
        created["VersionId"]: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert "CreatedDate" in e and "LastChangedDate" in e
    assert "DeletedDate" not in e and "RotationEnabled" not in e


def test_filter_name_prefix_is_case_sensitive_and_negatable(sm, made):
    t = _tag()
    mine = [f"{t}/app/db", f"{t}/app/api", f"{t}/other/db", f"{t}-App"]
    for n in mine:
        made(n)
    assert _names(sm, [{"Key": "name", "Values": [f"{t}/app"]}], mine) == {f"{t}/app/db", f"{t}/app/api"}
    assert _names(sm, [{"Key": "name", "Values": [f"{t}/app/d"]}], mine) == {f"{t}/app/db"}
    # Case-sensitive: "-app" is not a prefix of "-App".
    assert _names(sm, [{"Key": "name", "Values": [f"{t}-app"]}], mine) == set()
    assert _names(sm, [{"Key": "name", "Values": [f"{t}-App"]}], mine) == {f"{t}-App"}
    # Not a substring match.
    assert _names(sm, [{"Key": "name", "Values": ["app/db"]}], mine) == set()
    # Negation.
    assert _names(sm, [{"Key": "name", "Values": [f"!{t}/app"]}], mine) == {f"{t}/other/db", f"{t}-App"}
    # Several values of one filter: any of them.
    assert _names(sm, [{"Key": "name", "Values": [f"{t}/other", f"{t}-"]}], mine) == {f"{t}/other/db", f"{t}-App"}


def test_filter_description_words_case_insensitive(sm, made):
    """Recorded on AWS: each word of the value must be a prefix of a word of the description."""
    t = _tag()
    n1, n2, n3, n4 = (f"{t}-{i}" for i in range(1, 5))
    made(n1, Description="a secret")
    made(n2, Description="an secret")
    made(n3, Description="asecret")
    made(n4, Description="thesecret")
    made(f"{t}-5")  # no description
    mine = [n1, n2, n3, n4, f"{t}-5"]
    assert _names(sm, [{"Key": "description", "Values": ["a"]}], mine) == {n1, n2, n3}
    assert _names(sm, [{"Key": "description", "Values": ["A"]}], mine) == {n1, n2, n3}
    assert _names(sm, [{"Key": "description", "Values": ["a secret"]}], mine) == {n1, n2}
    assert _names(sm, [{"Key": "description", "Values": ["!a"]}], mine) >= {n4}
    assert _names(sm, [{"Key": "description", "Values": ["!a"]}], mine) & {n1, n2, n3} == set()
    assert _names(sm, [{"Key": "description", "Values": ["!c"]}], mine) >= {n1, n2, n3, n4}
    # Filters are ANDed.
    assert _names(sm, [{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": [n2]}], mine) == {n2}
    assert _names(sm, [{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": ["secret"]}], mine) == set()


def test_filter_tag_key_and_tag_value(sm, made):
    t = _tag()
    a, b, c = f"{t}-a", f"{t}-b", f"{t}-c"
    made(a, Tags=[{"Key": f"{t}Env", "Value": "Production"}])
    made(b, Tags=[{"Key": f"{t}Env", "Value": "staging"}, {"Key": f"{t}Team", "Value": "blue"}])
    made(c)
    mine = [a, b, c]
    assert _names(sm, [{"Key": "tag-key", "Values": [f"{t}Env"]}], mine) == {a, b}
    assert _names(sm, [{"Key": "tag-key", "Values": [f"{t}Te"]}], mine) == {b}
    assert _names(sm, [{"Key": "tag-key", "Values": [f"{t}env"]}], mine) == set()  # case-sensitive
    assert _names(sm, [{"Key": "tag-value", "Values": ["Prod"]}], mine) == {a}
    assert _names(sm, [{"Key": "tag-value", "Values": ["prod"]}], mine) == set()  # case-sensitive
    assert _names(sm, [{"Key": "tag-value", "Values": ["staging", "Production"]}], mine) == {a, b}
    assert _names(sm, [{"Key": "tag-key", "Values": [f"{t}Env"]}, {"Key": "tag-value", "Values": ["stag"]}],
                  mine) == {b}


def test_filter_all_searches_every_attribute(sm, made):
    t = _tag()
    word = "w" + "".join(chr(97 + b % 26) for b in uuid.uuid4().bytes[:9])  # lowercase letters only
    by_name = f"{word}-{t}"
    by_desc, by_key, by_value, none = (f"{t}-{i}" for i in range(4))
    made(by_name)
    made(by_desc, Description=f"holds the {word} credentials")
    made(by_key, Tags=[{"Key": word, "Value": "x"}])
    made(by_value, Tags=[{"Key": "k", "Value": word}])
    made(none, Description="nothing to see")
    mine = [by_name, by_desc, by_key, by_value, none]
    assert _names(sm, [{"Key": "all", "Values": [word]}], mine) == {by_name, by_desc, by_key, by_value}


def test_invalid_filter_key(sm):
    with pytest.raises(ClientError) as e:
        sm.list_secrets(Filters=[{"Key": "colour", "Values": ["x"]}])
    assert error(e) == ("ValidationException", 400)


def test_include_planned_deletion(sm, made):
    t = _tag()
    keep, gone = f"{t}-keep", f"{t}-gone"
    made(keep)
    made(gone)
    sm.delete_secret(SecretId=gone, RecoveryWindowInDays=7)
    flt = [{"Key": "name", "Values": [t]}]
    assert {s["Name"] for s in _list_all(sm, Filters=flt)} == {keep}
    listed = {s["Name"]: s for s in _list_all(sm, Filters=flt, IncludePlannedDeletion=True)}
    assert set(listed) == {keep, gone}
    assert "DeletedDate" in listed[gone]
    assert "DeletedDate" not in listed[keep]


def test_sort_by_name(sm, made):
    t = _tag()
    names = [f"{t}-{s}" for s in ("b", "d", "a", "c")]
    for n in names:
        made(n)
    flt = [{"Key": "name", "Values": [t]}]
    asc = [s["Name"] for s in _list_all(sm, Filters=flt, SortBy="name", SortOrder="asc")]
    desc = [s["Name"] for s in _list_all(sm, Filters=flt, SortBy="name", SortOrder="desc")]
    assert asc == sorted(names)
    assert desc == sorted(names, reverse=True)


def test_pagination(sm, made):
    t = _tag()
    names = {f"{t}-{i:02d}" for i in range(7)}
    for n in sorted(names):
        made(n)
    flt = [{"Key": "name", "Values": [t]}]
    seen, token, pages = [], None, 0
    while True:
        kw = {"Filters": flt, "MaxResults": 3}
        if token:
            kw["NextToken"] = token
        page = sm.list_secrets(**kw)
        pages += 1
        assert len(page["SecretList"]) <= 3
        seen += [s["Name"] for s in page["SecretList"]]
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert sorted(seen) == sorted(names)  # each exactly once
    # The paginator walks the same pages.
    got = sm.get_paginator("list_secrets").paginate(Filters=flt, PaginationConfig={"PageSize": 2}).build_full_result()
    assert sorted(s["Name"] for s in got["SecretList"]) == sorted(names)


def test_batch_get_by_ids_with_partial_errors(sm, made):
    t = _tag()
    a = made(f"{t}-a", SecretString="alpha")
    b = made(f"{t}-b", SecretBinary=b"\x00beta")
    missing = f"{t}-missing"
    out = sm.batch_get_secret_value(SecretIdList=[a["Name"], b["ARN"], missing])
    values = {v["Name"]: v for v in out["SecretValues"]}
    assert set(values) == {a["Name"], b["Name"]}
    assert values[a["Name"]]["SecretString"] == "alpha"
    assert values[a["Name"]]["ARN"] == a["ARN"]
    assert values[a["Name"]]["VersionId"] == a["VersionId"]
    assert values[a["Name"]]["VersionStages"] == ["AWSCURRENT"]
    assert values[b["Name"]]["SecretBinary"] == b"\x00beta"
    assert len(out["Errors"]) == 1
    err = out["Errors"][0]
    assert (err["SecretId"], err["ErrorCode"]) == (missing, "ResourceNotFoundException")
    assert err["Message"] == "Secrets Manager can't find the specified secret."


def test_batch_get_by_filters(sm, made):
    t = _tag()
    made(f"{t}-x/1", SecretString="one")
    made(f"{t}-x/2", SecretString="two")
    made(f"{t}-y/3", SecretString="three")
    out = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [f"{t}-x"]}])
    assert {v["Name"]: v["SecretString"] for v in out["SecretValues"]} == {f"{t}-x/1": "one", f"{t}-x/2": "two"}
    assert out.get("Errors", []) == []


def test_batch_get_by_filters_paginates(sm, made):
    t = _tag()
    for i in range(5):
        made(f"{t}-{i}", SecretString=str(i))
    got, token = {}, None
    while True:
        kw = {"Filters": [{"Key": "name", "Values": [t]}], "MaxResults": 2}
        if token:
            kw["NextToken"] = token
        page = sm.batch_get_secret_value(**kw)
        assert len(page["SecretValues"]) <= 2
        for v in page["SecretValues"]:
            assert v["Name"] not in got
            got[v["Name"]] = v["SecretString"]
        token = page.get("NextToken")
        if not token:
            break
    assert got == {f"{t}-{i}": str(i) for i in range(5)}


def test_batch_get_argument_errors(sm, made):
    t = _tag()
    made(f"{t}-a")
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=[f"{t}-a"], Filters=[{"Key": "name", "Values": [t]}])
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=[f"{t}-a"], MaxResults=5)
    assert error(e) == ("InvalidParameterException", 400)


def test_filter_owning_service(sm, made):
    """Secrets created here have no owning service: the key is accepted and matches none of them."""
    t = _tag()
    made(f"{t}-a", Description="mine")
    assert _names(sm, [{"Key": "owning-service", "Values": ["rds"]}], [f"{t}-a"]) == set()
    assert _names(sm, [{"Key": "owning-service", "Values": ["rds"]}, {"Key": "name", "Values": [t]}],
                  [f"{t}-a"]) == set()
