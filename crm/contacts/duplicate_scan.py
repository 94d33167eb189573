"""Finding possible duplicate contacts and customers across the database.

One scan (`scan()`; the "duplicate_scan" job; `flask contacts scan-duplicates`) reads every
contact and customer, finds candidate pairs, scores them and replaces the stored pairs
(DuplicatePair) in one transaction at the end. Pairs carry reason codes (REASONS), never names,
emails or phones. The pairs page's services (listing, counts, dismissals, starting a scan) are
in crm.contacts.duplicates, which reads this module's constants; this one imports nothing of it.

What is compared
    Contacts: the same email or phone (blind indexes, grouped in SQL); the same or a similar
    name (rapidfuzz ratio of the name's words sorted, accents folded: "Smith, Jon" ~ "John
    Smith") at the same customer, at customers with the same postal code, or in the same city.
    Customers: the same or a similar name at the same postal code or city; linked to the same
    person, or to people with the same email or phone.

Blocking (so 100,000 records take seconds, not hours)
    Names are only compared inside a *place*: a customer (for its contacts), a postal code, a
    city. Inside a place, identical names are grouped first (the bench data draws names from a
    few hundred, so most "pairs" are clusters of one name), and only distinct names are
    compared, within sub-blocks of names sharing the first three letters of a word (noise words
    such as "the" and numbers do not block). Similar names sharing no word's first three
    letters are missed; blocks of more than MAX_BLOCK distinct names are skipped (counted in
    the result).
    A name group or a pair of similar groups yields at most PAIRS_PER_RECORD partners per
    record (neighbours by id), not every pair: a cluster of 30 people called "Alex Kim" at
    one postal code gives ~90 candidate pairs, not 435. An email or phone shared by more than
    MAX_GROUP records (a shared mailbox, a switchboard) pairs nobody.

Scoring (0-100, WEIGHTS): evidence adds up, counter-evidence subtracts, and pairs under
    MIN_SCORE are dropped. Emails that differ (both have some, none shared), phones that
    differ, a name common at that place (COMMON_NAME or more records) and, for email/phone
    matches, clearly different names count against. So five "Alex Kim"s at one postal code,
    each with their own email and phone (different people, as the bench data makes them),
    are not suggested; two of them are, at the lowest score; at the same customer, higher.
    Names whose numbers differ are never similar ("Stall 7", "Stall 9"; "Tester1", "Tester2").

Customers in one group (a parent account and its locations, at any depth): a parent and its
    own location are never a pair; locations of one group are a pair only by the *same*
    name ("Blue Heron Bistro — Lakeview" and "— Hyde Park" are similar by design, and a
    group's buyer is linked to every location), i.e. a location entered twice.

Left out
    Archived customers: never paired, and links to them do not place a contact (the account
    is closed; its people are compared by email and phone only). Contacts have no archive.
    Dismissed pairs (DuplicateDismissal) are never stored again; dismissals made while a scan
    runs are read again just before writing.

Caps: each record keeps its PAIRS_PER_RECORD best pairs (a pair stays when it is among the
    best of either record) and each kind keeps its MAX_PAIRS best; the result says how many
    were dropped. Staff merge the best ones and scan again.
"""
import logging
import re
import time
from collections import defaultdict
from itertools import combinations

import click
from flask.cli import with_appcontext
from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, insert, select

from crm.common import SYSTEM
from crm.contacts.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    CustomerContact,
    DuplicateDismissal,
    DuplicatePair,
)
from crm.customers.models import Address, Customer
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import execute
from crm.security.blind_index import words

log = logging.getLogger(__name__)

JOB_NAME = "duplicate_scan"

SIMILAR_NAME = 88  # rapidfuzz ratio of the sorted name words from which names are "similar"
DIFFERENT_NAME = 60  # under this, names are "clearly different"
COMMON_NAME = 5  # this many records with one name at one place: the name is common there
PAIRS_PER_RECORD = 3  # candidates per record from a name cluster, and pairs kept per record
MAX_PAIRS = 20_000  # pairs kept per kind
MIN_SCORE = 40  # pairs scoring less are not stored
MAX_GROUP = 50  # records sharing one email / phone / person beyond this pair nobody
MAX_BLOCK = 5_000  # distinct names compared pairwise in one block at most
PREFIX = 3  # names are compared when a word starts with the same letters
NOISE_WORDS = {"the", "and", "of", "at", "de", "la", "le", "el", "co", "inc", "llc", "ltd"}

# Reason codes stored with a pair (stable: the page and later features read them) and how the
# page says them. Codes listed in AGAINST count against the pair.
REASONS = {
    "same_email": "Same email address",
    "same_phone": "Same phone number",
    "same_name_same_customer": "Same name at the same customer",
    "similar_name_same_customer": "Similar name at the same customer",
    "same_name_same_postal_code": "Same name, same postal code",
    "similar_name_same_postal_code": "Similar name, same postal code",
    "same_name_same_city": "Same name, same city",
    "similar_name_same_city": "Similar name, same city",
    "same_name": "Same name",
    "similar_name": "Similar name",
    "shared_contact": "The same person is a contact of both",
    "shared_contact_email": "Their contacts share an email address",
    "shared_contact_phone": "Their contacts share a phone number",
    "different_names": "Clearly different names",
    "different_emails": "Different email addresses",
    "different_phones": "Different phone numbers",
    "different_contact_emails": "Their contacts' email addresses differ",
    "common_name": "A common name there",
}
AGAINST = {"different_names", "different_emails", "different_phones",
           "different_contact_emails", "common_name"}

WEIGHTS = {
    "contact": {
        "same_email": 60, "same_phone": 45,
        "name": {"same": 40, "similar": 30}, "name_alone": {"same": 20, "similar": 15},
        "place": {"customer": 30, "postal_code": 20, "city": 10},
        "different_names": -20, "different_emails": -10, "different_phones": -10,
        "common_name": -10,
    },
    "customer": {
        "shared_contact": 25, "shared_contact_email": 25, "shared_contact_phone": 15,
        "name": {"same": 50, "similar": 35}, "name_alone": {"same": 20, "similar": 10},
        "place": {"postal_code": 30, "city": 15},
        "different_names": -20, "different_contact_emails": -10, "common_name": -15,
    },
}


# -- names -------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+")


def name_key(*parts) -> str:
    """A name's words, accent-free and lower-case, sorted ("Smith, Jon" -> "jon smith")."""
    return " ".join(sorted(words(" ".join(p for p in parts if p))))


def _block_tokens(key: str) -> set[str]:
    return {w[:PREFIX] for w in key.split() if w not in NOISE_WORDS and not w.isdigit()}


def compare_names(a: str, b: str) -> tuple[str | None, float]:
    """("same" | "similar" | None, ratio) for two name keys. Names whose numbers differ are
    not similar ("Stall 7" and "Stall 9" are two stalls)."""
    if not a or not b:
        return None, 0.0
    if a == b:
        return "same", 100.0
    ratio = fuzz.ratio(a, b)
    if ratio >= SIMILAR_NAME and _NUMBER.findall(a) == _NUMBER.findall(b):
        return "similar", ratio
    return None, ratio


class _Candidates:
    """Candidate pairs (low, high) of one kind, collected from several sources."""

    def __init__(self):
        self.pairs: set[tuple[int, int]] = set()

    def add(self, a: int, b: int):
        if a != b:
            self.pairs.add((a, b) if a < b else (b, a))

    def window(self, ids: list[int]):
        """Each of a group of records with one name, paired with its next few (by id)."""
        for i, a in enumerate(ids):
            for b in ids[i + 1:i + 1 + PAIRS_PER_RECORD]:
                self.add(a, b)

    def cross(self, left: list[int], right: list[int]):
        """Records of one name with a few of a similar name, and the other way round."""
        for one, other in ((left, right), (right, left)):
            width = min(PAIRS_PER_RECORD, len(other))
            for i, a in enumerate(one):
                for k in range(width):
                    self.add(a, other[(i + k) % len(other)])

    def all_pairs(self, ids):
        if len(ids) <= MAX_GROUP:
            for a, b in combinations(sorted(set(ids)), 2):
                self.add(a, b)
            return True
        return False


def _compare_places(places: dict, keys: dict[int, str], found: _Candidates, stats: dict,
                    tick=None):
    """Candidate pairs by name inside each place: {place: [record ids]} and {id: name key}.
    Returns {record id: places where its name is common (COMMON_NAME records or more)}."""
    common = defaultdict(set)
    for n, (place, ids) in enumerate(places.items()):
        if tick and n % 200 == 0:
            tick(n / max(len(places), 1))
        if len(ids) < 2:
            continue
        by_key = defaultdict(list)
        for rid in ids:
            if keys.get(rid):
                by_key[keys[rid]].append(rid)
        for key, members in by_key.items():
            if len(members) >= COMMON_NAME:
                for rid in members:
                    common[rid].add(place)
            if len(members) > 1:
                members.sort()
                found.window(members)
        if len(by_key) < 2:
            continue
        blocks = defaultdict(list)
        for key in by_key:
            for token in _block_tokens(key):
                blocks[token].append(key)
        seen = set()
        for block in blocks.values():
            if len(block) < 2:
                continue
            if len(block) > MAX_BLOCK:
                stats["blocks_skipped"] = stats.get("blocks_skipped", 0) + 1
                continue
            for i, key in enumerate(block[:-1]):
                for other, _, _ in process.extract(key, block[i + 1:], scorer=fuzz.ratio,
                                                   score_cutoff=SIMILAR_NAME, limit=None):
                    pair = (key, other) if key < other else (other, key)
                    if pair in seen:
                        continue
                    seen.add(pair)
                    if compare_names(key, other)[0] == "similar":
                        found.cross(by_key[key], by_key[other])
                stats["name_comparisons"] = stats.get("name_comparisons", 0) + len(block) - i - 1
    return common


def _tuples(rows) -> dict[int, tuple]:
    """{owner: (values...)}: tuples, not sets, as 100,000 small sets cost ~25 MB each time."""
    out = defaultdict(list)
    for owner, value in rows:
        out[owner].append(value)
    return {owner: tuple(values) for owner, values in out.items()}


def _overlap(a: tuple, b: tuple) -> bool:
    if not a or not b:
        return False
    if len(a) == 1:
        return a[0] in b
    return not set(a).isdisjoint(b)


def _shared_groups(column, owner) -> list[list[int]]:
    """Owners sharing one blind-index value, grouped in SQL: [[contact ids], ...]."""
    shared = (select(column).group_by(column)
              .having(func.count(func.distinct(owner)) > 1).scalar_subquery())
    groups = defaultdict(set)
    for value, owner_id in db.session.execute(select(column, owner).where(column.in_(shared))):
        groups[value].add(owner_id)
    return [sorted(ids) for ids in groups.values()]


LEVELS = ("customer", "postal_code", "city")  # where two records are, most telling first


def _place_keys(country, region, city, postal_code):
    country = (country or "").upper()
    places = []
    if postal_code:
        places.append(("postal_code", country, re.sub(r"\s+", "", postal_code.upper())))
    city_key = " ".join(words(city or ""))
    if city_key:
        places.append(("city", country, (region or "").upper(), city_key))
    return places


# -- the scan ----------------------------------------------------------------------------------

class _World:
    """What the scan reads: name keys, places (interned as ints), emails and phones (blind
    indexes), who is linked to whom, and the account groups."""

    def __init__(self):
        self.contact_keys: dict[int, str] = {}
        self.customer_keys: dict[int, str] = {}
        self.parent: dict[int, int | None] = {}
        self.contacts_of: dict[int, tuple] = {}  # customer -> contacts
        self.customers_of: dict[int, tuple] = {}  # contact -> customers
        self.emails: dict[int, tuple] = {}  # contact -> email blind indexes
        self.phones: dict[int, tuple] = {}
        self.email_groups: list[list[int]] = []
        self.phone_groups: list[list[int]] = []
        self.place_ids: dict[tuple, int] = {}
        self.level: list[int] = []  # place id -> index in LEVELS
        self.customer_places: dict[int, tuple] = {}  # customer -> place ids
        self._roots: dict[int, int] = {}

    def place(self, key: tuple) -> int:
        found = self.place_ids.get(key)
        if found is None:
            found = self.place_ids[key] = len(self.level)
            self.level.append(LEVELS.index(key[0]))
        return found

    def load(self):
        live = Customer.archived_at.is_(None)
        self.contact_keys = {
            cid: name_key(first, last) for cid, first, last in db.session.execute(
                select(Contact.id, Contact.first_name, Contact.last_name))}
        self.parent = dict(db.session.execute(select(Customer.id, Customer.parent_id)).all())
        self.customer_keys = {cid: name_key(name) for cid, name in db.session.execute(
            select(Customer.id, Customer.name).where(live))}
        links = db.session.execute(
            select(CustomerContact.customer_id, CustomerContact.contact_id).distinct()
            .join(Customer, Customer.id == CustomerContact.customer_id).where(live)).all()
        self.contacts_of = _tuples(links)
        self.customers_of = _tuples((contact, customer) for customer, contact in links)
        del links
        places = defaultdict(list)
        for customer_id, *address in db.session.execute(
                select(Address.customer_id, Address.country, Address.region, Address.city,
                       Address.postal_code)
                .join(Customer, Customer.id == Address.customer_id).where(live)):
            for key in _place_keys(*address):
                place = self.place(key)
                if place not in places[customer_id]:
                    places[customer_id].append(place)
        self.customer_places = {c: tuple(p) for c, p in places.items()}
        self.emails = _tuples(db.session.execute(
            select(ContactEmail.contact_id, ContactEmail.email_bidx)))
        self.phones = _tuples(db.session.execute(
            select(ContactPhone.contact_id, ContactPhone.phone_bidx)))
        self.email_groups = _shared_groups(ContactEmail.email_bidx, ContactEmail.contact_id)
        self.phone_groups = _shared_groups(ContactPhone.phone_bidx, ContactPhone.contact_id)

    def contact_places(self) -> dict[int, tuple]:
        """{contact: place ids}: its customers, and their postal codes and cities."""
        out = {}
        for contact_id, customers in self.customers_of.items():
            mine = {self.place(("customer", c)) for c in customers}
            for customer_id in customers:
                mine.update(self.customer_places.get(customer_id, ()))
            out[contact_id] = tuple(mine)
        return out

    def shared_place(self, a: tuple, b: tuple) -> tuple[str | None, list[int]]:
        """The most telling level at which two records share places, and those places."""
        best, shared = None, []
        for place in a:
            if place in b:
                level = self.level[place]
                if best is None or level < best:
                    best, shared = level, [place]
                elif level == best:
                    shared.append(place)
        return (LEVELS[best] if best is not None else None), shared

    def root(self, customer_id: int) -> int:
        """The top of a customer's group (itself when it has no parent)."""
        if customer_id in self._roots:
            return self._roots[customer_id]
        path, current = [], customer_id
        while self.parent.get(current) is not None and current not in path and len(path) < 50:
            path.append(current)
            current = self.parent[current]
        for step in path:
            self._roots[step] = current
        self._roots[customer_id] = current
        return current

    def is_ancestor(self, older: int, younger: int) -> bool:
        current, steps = self.parent.get(younger), 0
        while current is not None and steps < 50:
            if current == older:
                return True
            current, steps = self.parent.get(current), steps + 1
        return False


def _by_place(places: dict[int, tuple]) -> dict[int, list[int]]:
    out = defaultdict(list)
    for record_id, mine in places.items():
        for place in mine:
            out[place].append(record_id)
    return out


def _is_common(common, shared, a, b) -> bool:
    """Whether either name is common at a place the two share."""
    for mine in (common.get(a), common.get(b)):
        if mine:
            for place in shared:
                if place in mine:
                    return True
    return False


def _score_contact(a, b, world, places, common):
    w = WEIGHTS["contact"]
    emails_a, emails_b = world.emails.get(a, ()), world.emails.get(b, ())
    phones_a, phones_b = world.phones.get(a, ()), world.phones.get(b, ())
    same_email, same_phone = _overlap(emails_a, emails_b), _overlap(phones_a, phones_b)
    score, reasons = 0, []
    if same_email:
        score += w["same_email"]
        reasons.append("same_email")
    if same_phone:
        score += w["same_phone"]
        reasons.append("same_phone")
    key_a, key_b = world.contact_keys.get(a, ""), world.contact_keys.get(b, "")
    level, ratio = compare_names(key_a, key_b)
    if level:
        place, shared = world.shared_place(places.get(a, ()), places.get(b, ()))
        if place is None and not (same_email or same_phone):
            return None
        points = (w["name"][level] + w["place"][place]) if place else w["name_alone"][level]
        if " " not in key_a or " " not in key_b:
            points //= 2  # a first name alone says little
        score += points
        reasons.append(f"{level}_name" + (f"_same_{place}" if place else ""))
        if place and _is_common(common, shared, a, b):
            score += w["common_name"]
            reasons.append("common_name")
    elif not (same_email or same_phone):
        return None
    elif key_a and key_b and ratio < DIFFERENT_NAME:
        score += w["different_names"]
        reasons.append("different_names")
    if emails_a and emails_b and not same_email:
        score += w["different_emails"]
        reasons.append("different_emails")
    if phones_a and phones_b and not same_phone:
        score += w["different_phones"]
        reasons.append("different_phones")
    return min(score, 100), reasons


def _score_customer(a, b, world, emails, phones, common):
    w = WEIGHTS["customer"]
    in_group = world.root(a) == world.root(b)
    if in_group and (world.is_ancestor(a, b) or world.is_ancestor(b, a)):
        return None  # a parent account and its own location
    key_a, key_b = world.customer_keys.get(a, ""), world.customer_keys.get(b, "")
    level, ratio = compare_names(key_a, key_b)
    if in_group and level != "same":
        return None  # locations of one group: only a location entered twice
    score, reasons = 0, []
    if level:
        place, shared = world.shared_place(world.customer_places.get(a, ()),
                                           world.customer_places.get(b, ()))
        score += (w["name"][level] + w["place"][place]) if place else w["name_alone"][level]
        reasons.append(f"{level}_name" + (f"_same_{place}" if place else ""))
        if place and _is_common(common, shared, a, b):
            score += w["common_name"]
            reasons.append("common_name")
    emails_a, emails_b = emails.get(a, ()), emails.get(b, ())
    shared_email = _overlap(emails_a, emails_b)
    evidence = False
    if not in_group:  # a group's buyer is linked to every location
        if _overlap(world.contacts_of.get(a, ()), world.contacts_of.get(b, ())):
            score += w["shared_contact"]
            reasons.append("shared_contact")
            evidence = True
        else:
            if shared_email:
                score += w["shared_contact_email"]
                reasons.append("shared_contact_email")
                evidence = True
            if _overlap(phones.get(a, ()), phones.get(b, ())):
                score += w["shared_contact_phone"]
                reasons.append("shared_contact_phone")
                evidence = True
    if not level:
        if not evidence:
            return None
        if key_a and key_b and ratio < DIFFERENT_NAME:
            score += w["different_names"]
            reasons.append("different_names")
    if emails_a and emails_b and not shared_email:
        score += w["different_contact_emails"]
        reasons.append("different_contact_emails")
    return min(score, 100), reasons


def _keep_best(scored: list[tuple[int, int, int, list]]) -> list[tuple[int, int, int, list]]:
    """Best first; a pair stays when it is among the PAIRS_PER_RECORD best of either record;
    then the MAX_PAIRS best."""
    scored.sort(key=lambda p: (-p[2], p[0], p[1]))
    kept, count = [], defaultdict(int)
    for pair in scored:
        low, high = pair[0], pair[1]
        if count[low] < PAIRS_PER_RECORD or count[high] < PAIRS_PER_RECORD:
            kept.append(pair)
            count[low] += 1
            count[high] += 1
            if len(kept) == MAX_PAIRS:
                break
    return kept


def _dismissed() -> dict[str, set]:
    out = {"contact": set(), "customer": set()}
    for kind, low, high in db.session.execute(
            select(DuplicateDismissal.kind, DuplicateDismissal.low_id, DuplicateDismissal.high_id)):
        out.setdefault(kind, set()).add((low, high))
    return out


def _add(stats, key, n=1):
    stats[key] = stats.get(key, 0) + n


def scan(report=lambda percent, message=None: None, run_id: int | None = None) -> dict:
    """Find, score and store possible duplicates; the stored pairs are replaced (the caller
    commits). `report(percent, message)` hears how far it got. Returns counts, never values."""
    started = time.monotonic()
    stats: dict = {"candidates": {}, "scored": {}, "dropped": {}}
    last = [0.0]

    def tick(base, span, message):
        def at(fraction):
            now = time.monotonic()
            if now - last[0] >= 1.0:
                last[0] = now
                report(base + int(span * fraction), message)
        return at

    report(2, "Reading contacts and customers")
    world = _World()
    world.load()
    dismissed = _dismissed()
    stats["scanned"] = {"contacts": len(world.contact_keys), "customers": len(world.customer_keys)}
    scored = {}

    # People.
    report(20, f"Comparing {len(world.contact_keys):,} people")
    places = world.contact_places()
    found = _Candidates()
    common = _compare_places(_by_place(places), world.contact_keys, found, stats,
                             tick(20, 25, "Comparing people"))
    for groups in (world.email_groups, world.phone_groups):
        for ids in groups:
            if not found.all_pairs(ids):
                _add(stats, "groups_skipped")
    report(45, f"Scoring {len(found.pairs):,} candidate pairs of people")
    scored["contact"] = []
    for low, high in found.pairs:
        if (low, high) not in dismissed["contact"]:
            result = _score_contact(low, high, world, places, common)
            if result and result[0] >= MIN_SCORE:
                scored["contact"].append((low, high, *result))
    stats["candidates"]["contact"] = len(found.pairs)
    del found, places, common

    # Customers.
    report(55, f"Comparing {len(world.customer_keys):,} customers")
    found = _Candidates()
    common = _compare_places(_by_place(world.customer_places), world.customer_keys, found,
                             stats, tick(55, 20, "Comparing customers"))
    for customers in world.customers_of.values():
        if len(customers) > 1 and not found.all_pairs(customers):
            _add(stats, "groups_skipped")
    for groups in (world.email_groups, world.phone_groups):
        for ids in groups:
            customers = {c for contact in ids for c in world.customers_of.get(contact, ())}
            if len(customers) > 1 and not found.all_pairs(customers):
                _add(stats, "groups_skipped")
    emails, phones = {}, {}
    for customer_id, contacts in world.contacts_of.items():
        for channel, of_contact in ((emails, world.emails), (phones, world.phones)):
            values = tuple({v for c in contacts for v in of_contact.get(c, ())})
            if values:
                channel[customer_id] = values
    report(75, f"Scoring {len(found.pairs):,} candidate pairs of customers")
    scored["customer"] = []
    for low, high in found.pairs:
        if (low, high) not in dismissed["customer"] and low in world.customer_keys \
                and high in world.customer_keys:
            result = _score_customer(low, high, world, emails, phones, common)
            if result and result[0] >= MIN_SCORE:
                scored["customer"].append((low, high, *result))
    stats["candidates"]["customer"] = len(found.pairs)
    del found, common, emails, phones, world

    report(85, "Ranking")
    kept = {}
    for kind, pairs in scored.items():
        kept[kind] = _keep_best(pairs)
        stats["scored"][kind] = len(pairs)
        stats["dropped"][kind] = len(pairs) - len(kept[kind])
    report(90, f"Saving {sum(len(v) for v in kept.values()):,} pairs")

    # One transaction from here on (no report() in between: it commits).
    dismissed = _dismissed()  # read again: staff may have dismissed pairs meanwhile
    db.session.execute(delete(DuplicatePair))
    # Worst first, so that the listing's "score DESC, id DESC" is the ranking and walks the
    # (kind, score) index as it is (SQLite's index ends with the row id).
    rows = [{"kind": kind, "low_id": low, "high_id": high, "score": score, "reasons": reasons,
             "run_id": run_id}
            for kind, pairs in kept.items() for low, high, score, reasons in reversed(pairs)
            if (low, high) not in dismissed[kind]]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(DuplicatePair), rows[start:start + 5000])
    stored = {kind: sum(1 for r in rows if r["kind"] == kind) for kind in kept}
    seconds = round(time.monotonic() - started, 1)
    log.info("duplicate scan: %s contact pairs, %s customer pairs in %.1f s",
             stored["contact"], stored["customer"], seconds)
    return {"contacts": stored["contact"], "customers": stored["customer"], "seconds": seconds,
            **stats}


def summary(result: dict) -> str:
    return (f"contacts: {result.get('contacts', 0)} pairs, "
            f"customers: {result.get('customers', 0)} pairs")


def scan_job(run, report):
    """Scan the whole database for possible duplicates; the pairs found replace the old ones."""
    result = scan(report, run_id=run.id)
    run.message = summary(result)
    return result


# -- the command line ----------------------------------------------------------------------------

@click.command("scan-duplicates")
@with_appcontext
def scan_command():
    """Scan for possible duplicate contacts and customers now (inline), replacing the pairs
    the "Possible duplicates" page lists."""
    run = JobRun(name=JOB_NAME, params={}, owner_kind=SYSTEM.kind, owner_id=None)
    db.session.add(run)
    db.session.commit()
    execute(run.id)  # inline whatever REDIS_URL says: a JobRun, so the page shows this scan
    run = db.session.get(JobRun, run.id)
    if run.status != "finished":
        raise click.ClickException("The scan failed; the error has been logged.")
    result = run.result or {}
    click.echo(f"{summary(result)}, {result.get('seconds', 0)} s")
