"""DynamoDB through PynamoDB, a Python ORM no one here wrote: models with every attribute kind, a global secondary
index, create_table's wait, conditional saves, optimistic locking (VersionAttribute), update actions, queries with
range and filter conditions, scan paging, counts, batch reads and writes, transactions and their cancellation."""
import os
import uuid
from datetime import datetime, timezone

import pytest
from pynamodb.attributes import (BinaryAttribute, BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 NumberSetAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute,
                                 VersionAttribute)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite


class Address(MapAttribute):
    city = UnicodeAttribute()
    zip = UnicodeAttribute(null=True)


class ByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute(range_key=True)


class ByOwner(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-owner"
        projection = KeysOnlyProjection()

    owner = UnicodeAttribute(hash_key=True)


def models(endpoint):
    """Fresh model classes bound to fresh tables on this server."""
    suffix = uuid.uuid4().hex[:8]
    meta = dict(host=endpoint, region="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                billing_mode="PAY_PER_REQUEST", max_retry_attempts=0)

    class Order(Model):
        Meta = type("Meta", (), dict(meta, table_name=f"orders-{suffix}"))
        customer = UnicodeAttribute(hash_key=True)
        number = NumberAttribute(range_key=True)
        status = UnicodeAttribute()
        created = UTCDateTimeAttribute()
        owner = UnicodeAttribute(null=True)
        total = NumberAttribute(default=0)
        paid = BooleanAttribute(default=False)
        tags = UnicodeSetAttribute(null=True)
        sizes = NumberSetAttribute(null=True)
        lines = ListAttribute(of=MapAttribute, null=True)
        address = Address(null=True)
        blob = BinaryAttribute(null=True, legacy_encoding=False)
        version = VersionAttribute()
        by_status = ByStatus()
        by_owner = ByOwner()

    class Counter(Model):
        Meta = type("Meta", (), dict(meta, table_name=f"counters-{suffix}"))
        name = UnicodeAttribute(hash_key=True)
        value = NumberAttribute(default=0)

    return Order, Counter


@pytest.fixture(scope="module")
def tables(endpoint):
    Order, Counter = models(endpoint)
    Order.create_table(wait=True)
    Counter.create_table(wait=True)
    yield Order, Counter
    Order.delete_table()
    Counter.delete_table()


def connect(endpoint):
    return Connection(host=endpoint, region="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def when(day):
    return datetime(2026, 12, day, 9, 30, tzinfo=timezone.utc)


def test_create_table_describes_the_model(tables, endpoint):
    Order, _ = tables
    assert Order.exists()
    d = connect(endpoint).describe_table(Order.Meta.table_name)
    assert d["TableStatus"] == "ACTIVE" and d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert sorted(i["IndexName"] for i in d["GlobalSecondaryIndexes"]) == ["by-owner", "by-status"]
    assert {a["AttributeName"] for a in d["AttributeDefinitions"]} == {"customer", "number", "status", "created", "owner"}


def test_save_get_every_attribute_kind_and_versions(tables):
    Order, _ = tables
    o = Order("ada", 1, status="new", created=when(1), owner="bob", total=12.5, tags={"gift", "rush"}, sizes={1, 2.5},
              lines=[{"sku": "A-1", "qty": 2}], address=Address(city="Paris", zip="75001"), blob=b"\x00\xffbytes")
    o.save()
    assert o.version == 1
    got = Order.get("ada", 1, consistent_read=True)
    assert (got.status, got.created, got.owner, got.total, got.paid) == ("new", when(1), "bob", 12.5, False)
    assert got.tags == {"gift", "rush"} and got.sizes == {1, 2.5} and got.blob == b"\x00\xffbytes"
    assert got.lines[0]["sku"] == "A-1" and got.lines[0]["qty"] == 2
    assert got.address.city == "Paris" and got.address.zip == "75001"
    with pytest.raises(DoesNotExist):
        Order.get("ada", 999)

    # Optimistic locking: a stale copy cannot save over a newer one.
    stale = Order.get("ada", 1)
    got.status = "paid"
    got.save()
    assert got.version == 2
    stale.status = "lost"
    with pytest.raises(PutError) as e:
        stale.save()
    assert e.value.cause_response_code == "ConditionalCheckFailedException"
    assert Order.get("ada", 1).status == "paid"

    # A conditional save that fails changes nothing.
    with pytest.raises(PutError):
        Order("ada", 1, status="overwritten", created=when(1)).save(condition=Order.customer.does_not_exist())
    assert Order.get("ada", 1).status == "paid"


def test_update_actions(tables):
    Order, Counter = tables
    o = Order("cy", 1, status="new", created=when(2), total=10, tags={"a"}, lines=[])
    o.save()
    o.update(actions=[
        Order.total.add(5),
        Order.tags.add({"b", "c"}),
        Order.lines.set(Order.lines.append([{"sku": "Z"}])),
        Order.paid.set(True),
        Order.owner.remove(),
    ])
    assert (o.total, o.tags, o.paid, o.owner, len(o.lines)) == (15, {"a", "b", "c"}, True, None, 1)
    assert o.version == 2
    o.update(actions=[Order.tags.delete({"a"}), Order.address.set(Address(city="Oslo"))])
    fresh = Order.get("cy", 1)
    assert fresh.tags == {"b", "c"} and fresh.address.city == "Oslo" and fresh.version == 3
    with pytest.raises(UpdateError) as e:
        o.update(actions=[Order.total.set(0)], condition=Order.total > 100)
    assert e.value.cause_response_code == "ConditionalCheckFailedException"
    assert Order.get("cy", 1).total == 15

    c = Counter("hits")
    c.save()
    for _ in range(3):
        c.update(actions=[Counter.value.add(1)])
    assert Counter.get("hits").value == 3


def test_query_index_scan_and_count(tables):
    Order, _ = tables
    with Order.batch_write() as batch:
        for n in range(1, 26):
            batch.save(Order("dee", n, status="open" if n % 2 else "closed", created=when(n % 28 + 1), total=n,
                             owner="ops" if n <= 5 else None))
    assert [o.number for o in Order.query("dee", Order.number.between(3, 6))] == [3, 4, 5, 6]
    assert [o.number for o in Order.query("dee", Order.number > 20, scan_index_forward=False)] == [25, 24, 23, 22, 21]
    assert [o.number for o in Order.query("dee", filter_condition=Order.total >= 24)] == [24, 25]
    assert Order.count("dee") == 25
    assert Order.count("dee", Order.number <= 10, filter_condition=Order.status == "open") == 5

    # Paging by hand with limit and last_evaluated_key.
    seen, last = [], None
    while True:
        page = Order.query("dee", limit=10, last_evaluated_key=last, page_size=10)
        numbers = [o.number for o in page]
        seen += numbers
        last = page.last_evaluated_key
        if last is None:
            break
        assert len(numbers) == 10
    assert seen == list(range(1, 26))

    # The GSI, with its range condition, and the keys-only one.
    open_orders = list(Order.by_status.query("open", Order.created >= when(10)))
    assert open_orders and all(o.status == "open" and o.created >= when(10) for o in open_orders)
    assert [o.created for o in open_orders] == sorted(o.created for o in open_orders)
    owned = list(Order.by_owner.query("ops"))
    assert sorted(o.number for o in owned if o.customer == "dee") == [1, 2, 3, 4, 5]

    scanned = list(Order.scan(Order.customer == "dee", page_size=7))
    assert len(scanned) == 25
    assert sorted(o.number for o in Order.scan((Order.customer == "dee") & Order.tags.does_not_exist() & (Order.total < 3))) == [1, 2]


def test_batch_get_and_delete_conditions(tables):
    Order, _ = tables
    for n in range(1, 4):
        Order("eve", n, status="new", created=when(3)).save()
    got = sorted(o.number for o in Order.batch_get([("eve", 1), ("eve", 3), ("eve", 404)]))
    assert got == [1, 3]
    o = Order.get("eve", 2)
    with pytest.raises(DeleteError):
        o.delete(condition=Order.status == "shipped")
    o.delete()
    with pytest.raises(DoesNotExist):
        Order.get("eve", 2)


def test_transactions(tables, endpoint):
    Order, Counter = tables
    connection = connect(endpoint)
    Counter("orders").save()
    with TransactWrite(connection=connection, client_request_token=str(uuid.uuid4())) as t:
        t.save(Order("fay", 1, status="new", created=when(4)))
        t.update(Counter("orders"), actions=[Counter.value.add(1)])
    assert Counter.get("orders").value == 1 and Order.get("fay", 1).status == "new"

    # One failed condition cancels the whole transaction.
    Counter("limit", value=0).save()
    with pytest.raises(TransactWriteError) as e:
        with TransactWrite(connection=connection) as t:
            t.save(Order("fay", 2, status="new", created=when(4)))
            t.update(Counter("orders"), actions=[Counter.value.add(1)])
            t.condition_check(Counter, "limit", condition=Counter.value > 5)
    assert e.value.cause_response_code == "TransactionCanceledException", e.value.cause_response_message
    reasons = [r and r.code for r in e.value.cancellation_reasons]  # AWS says "None" for the others: PynamoDB gives None
    # In the order PynamoDB sends the items: condition checks, deletes, puts, updates.
    assert reasons == ["ConditionalCheckFailed", None, None], reasons
    assert Counter.get("orders").value == 1
    with pytest.raises(DoesNotExist):
        Order.get("fay", 2)

    # Two operations on one item in a transaction: AWS refuses the request itself.
    with pytest.raises(TransactWriteError) as e:
        with TransactWrite(connection=connection) as t:
            t.update(Counter("orders"), actions=[Counter.value.add(1)])
            t.condition_check(Counter, "orders", condition=Counter.value > 0)
    assert e.value.cause_response_code == "ValidationException"
    assert "multiple operations on one item" in e.value.cause_response_message

    with TransactGet(connection=connection) as g:
        order = g.get(Order, "fay", 1)
        counter = g.get(Counter, "orders")
    assert order.get().status == "new" and counter.get().value == 1
