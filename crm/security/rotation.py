"""Key rotation and blind-index rebuilds, in batches, safe to stop and run again.

rotate_keys(): every encrypted column is re-encrypted under the newest key. Values already under
it are skipped, so a second run (after a crash or Ctrl-C) resumes where the first stopped. Each
write is compare-and-swap on the old ciphertext, so an edit made meanwhile is never overwritten.

reindex(): recomputes email/phone blind indexes and name-search tokens (after the blind-index key
changed, or to repair them).
"""
from sqlalchemy import Text, select, type_coerce, update

from crm.extensions import db
from crm.security.encryption import EncryptedString, decrypt, encrypt


def encrypted_columns():
    """{table: [encrypted column, ...]} for every mapped table."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedString)]
        if columns:
            found[table] = columns
    return found


def rotate_keys(batch_size: int = 500, report=None) -> dict:
    """Re-encrypt every value not under the newest key. Returns {table: values rotated}."""
    totals = {}
    tables = encrypted_columns()
    for position, (table, columns) in enumerate(tables.items()):
        (pk,) = table.primary_key.columns
        raw = [type_coerce(c, Text).label(c.name) for c in columns]
        last, rotated = None, 0
        while True:
            query = select(pk, *raw).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            for row in rows:
                for column in columns:
                    old = getattr(row, column.name)
                    if old is None:
                        continue
                    plaintext, key_index = decrypt(old)
                    if key_index == 0:
                        continue
                    values = {column.name: type_coerce(encrypt(plaintext), Text)}
                    if "updated_at" in table.c:  # re-encrypting is not an update of the record
                        values["updated_at"] = table.c.updated_at
                    result = db.session.execute(
                        update(table)
                        .where(pk == row[0], type_coerce(column, Text) == old)
                        .values(values)
                    )
                    rotated += result.rowcount
            last = rows[-1][0]
            db.session.commit()
        totals[table.name] = rotated
        if report:
            report(100 * (position + 1) // len(tables), f"Re-encrypted {table.name}")
    return totals


def _reindex_steps():
    """(model, apply) for every model with blind-indexed columns or a name-search index, as
    the models declare them (crm.security.blind_index.blind_indexed, `__search_index__`: the
    attribute holding the name, or a tuple of them, e.g. a contact's first and last name), and
    for tokens a model keeps for another table's records (`__search_rebuild__ = (table,
    "module:function(ids)")`, e.g. the names of a customer's people, per customer)."""
    from crm.common import load
    from crm.security.blind_index import INDEXERS
    from crm.security.search import index_name

    steps = []
    mappers = sorted(db.Model.registry.mappers, key=lambda m: m.class_.__tablename__)
    by_table = {mapper.class_.__tablename__: mapper.class_ for mapper in mappers}
    for mapper in mappers:
        model = mapper.class_
        rebuild = model.__dict__.get("__search_rebuild__")
        if rebuild:
            table, function = rebuild

            def rebuilt(items, function=function):
                load(function)([item.id for item in items])
            rebuilt.batch = True  # given a whole batch: a few statements per 500 records
            steps.append((by_table[table], rebuilt))
        indexed = [(c.key, *c.info["blind_index"]) for c in mapper.columns
                   if "blind_index" in c.info]
        if indexed:
            def apply(item, indexed=indexed):
                for column, source, kind in indexed:
                    setattr(item, column, INDEXERS[kind](getattr(item, source)))
            steps.append((model, apply))
        searched = getattr(model, "__search_index__", None)
        if searched:
            names = (searched,) if isinstance(searched, str) else tuple(searched)

            def tokens(item, model=model, names=names):
                index_name(model.__tablename__, item.id, *(getattr(item, n) for n in names))
            steps.append((model, tokens))
    return steps


def reindex(batch_size: int = 500, report=None) -> dict:
    """Recompute blind indexes and name tokens under the current blind-index key."""
    steps = _reindex_steps()
    counts = {}
    for position, (model, apply) in enumerate(steps):
        last, count = 0, 0
        while True:
            batch = db.session.scalars(
                select(model).where(model.id > last).order_by(model.id).limit(batch_size)
            ).all()
            if not batch:
                break
            if getattr(apply, "batch", False):
                apply(batch)
            else:
                for item in batch:
                    apply(item)
            count += len(batch)
            last = batch[-1].id
            db.session.commit()
        counts[model.__tablename__] = count
        if report:
            report(100 * (position + 1) // len(steps), f"Indexed {model.__tablename__}")
    return counts
