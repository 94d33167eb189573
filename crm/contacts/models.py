from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import Actor, UTCDateTime, actor_check, utcnow
from crm.extensions import db
from crm.security.blind_index import blind_indexed
from crm.security.encryption import EncryptedString

CONTACT_ROLES = {
    "primary": "Primary",
    "ordering": "Ordering",
    "billing": "Billing",
    "kitchen": "Kitchen",
    "receiving": "Receiving",
}


class Contact(db.Model):
    """A person; may buy for several customers."""

    __tablename__ = "contact"
    # word-prefix tokens of both names (crm.security.search): the directory, the customer
    # search and the header search find people by them
    __search_index__ = ("first_name", "last_name")

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(EncryptedString(80))
    last_name: Mapped[str | None] = mapped_column(EncryptedString(80))
    notes: Mapped[str | None] = mapped_column(EncryptedString(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    emails: Mapped[list["ContactEmail"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactEmail.id"
    )
    phones: Mapped[list["ContactPhone"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactPhone.id"
    )
    customer_links = relationship(
        "CustomerContact", back_populates="contact", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self):
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def reference(self) -> str:
        """How text that may be stored or logged names this person (flashes and toasts ride
        in the signed, not encrypted, session cookie): by id, never by name. A customer's is
        its number."""
        return f"contact #{self.id}"

    @property
    def primary_email(self):
        return next((e for e in self.emails if e.is_primary), None)

    @property
    def primary_phone(self):
        return next((p for p in self.phones if p.is_primary), None)


class ChannelFlags:
    """Shared by emails and phones: one primary each, and whether we may or can use it."""

    is_primary: Mapped[bool] = mapped_column(default=False)
    opted_out: Mapped[bool] = mapped_column(default=False)
    invalid: Mapped[bool] = mapped_column(default=False)


class ContactEmail(ChannelFlags, db.Model):
    __tablename__ = "contact_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    email: Mapped[str] = mapped_column(EncryptedString(254))
    email_bidx: Mapped[str] = mapped_column(String(32), index=True,
                                            info=blind_indexed("email", "email"))

    contact: Mapped[Contact] = relationship(back_populates="emails")


class ContactPhone(ChannelFlags, db.Model):
    __tablename__ = "contact_phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    phone: Mapped[str] = mapped_column(EncryptedString(20))  # E.164
    phone_bidx: Mapped[str] = mapped_column(String(32), index=True,
                                            info=blind_indexed("phone", "phone"))

    contact: Mapped[Contact] = relationship(back_populates="phones")


class CustomerContact(db.Model):
    """Links a contact to a customer in a role."""

    __tablename__ = "customer_contact"
    # Its people's names are also search tokens of the customer (entity "customer_people"),
    # rebuilt per customer by this function, which reindexing calls for every customer.
    __search_rebuild__ = ("customer", "crm.contacts.search:index_people")

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    customer = relationship("Customer", back_populates="contact_links")
    contact: Mapped[Contact] = relationship(back_populates="customer_links")


# -- duplicates, merges and imports (issue 3) ---------------------------------------------------

RECORD_KINDS = ("customer", "contact")


class DuplicatePair(db.Model):
    """A possible duplicate found by the last duplicate scan: two ids (low < high) of one kind,
    a score 0-100 and reason codes (never values), e.g. ["same_email", "similar_name"]."""

    __tablename__ = "duplicate_pair"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # RECORD_KINDS
    low_id: Mapped[int]
    high_id: Mapped[int]
    score: Mapped[int]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"), index=True)

    __table_args__ = (
        db.UniqueConstraint("kind", "low_id", "high_id"),
        db.Index("ix_duplicate_pair_listing", "kind", "score"),
    )


class DuplicateDismissal(db.Model):
    """Staff said these two are different: the pair is never suggested again."""

    __tablename__ = "duplicate_dismissal"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    low_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    high_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dismissed_by_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    dismissed_by_id: Mapped[int | None]

    __table_args__ = (actor_check("dismissed_by"),)


class ContactImport(db.Model):
    """An uploaded customers-and-contacts CSV, from preview to report. The file and the report
    hold personal data, so both are encrypted; the job gets only this row's id."""

    __tablename__ = "contact_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(EncryptedString(255))
    content: Mapped[str] = mapped_column(EncryptedString())  # the file decoded to text
    on_duplicate: Mapped[str] = mapped_column(String(10), default="skip")  # create|update|skip
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="previewed")
    counts: Mapped[dict | None] = mapped_column(JSON)  # rows, created, updated, duplicates, errors
    report: Mapped[str | None] = mapped_column(EncryptedString())  # CSV: what became of each row
    # Which column is which field (importing.mapping; field names only) and the kind of a new
    # organisation without one.
    mapping: Mapped[list | None] = mapped_column(JSON)
    default_kind: Mapped[str] = mapped_column(String(20), default="restaurant")
    # The preview's check, stored once (crm.contacts.importing.preview): its summary as JSON
    # (the file's header cells and sample values are in it, hence encrypted) and the choices
    # it was checked under.
    checked: Mapped[str | None] = mapped_column(EncryptedString())
    checked_for: Mapped[str | None] = mapped_column(String(80))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    uploaded_by_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    uploaded_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (actor_check("uploaded_by"),)

    @property
    def uploaded_by(self) -> Actor:
        return Actor.stored(self.uploaded_by_kind, self.uploaded_by_id)


class ImportMapping(db.Model):
    """The columns chosen for a file, remembered for the next file with the same header: keyed
    by a hash of the header's names (importing.mapping.header_key), holding field names only."""

    __tablename__ = "import_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    header_key: Mapped[str] = mapped_column(String(64), unique=True)
    fields: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ContactImportRow(db.Model):
    """One row of a checked upload as its preview shows it, at its place in the preview's order
    (rows with errors first, then by line). Its cells and messages are the file's, encrypted."""

    __tablename__ = "contact_import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("contact_import.id", ondelete="CASCADE"))
    position: Mapped[int]
    shown: Mapped[str] = mapped_column(EncryptedString())  # JSON: line, outcome, cells, errors

    __table_args__ = (Index("ix_contact_import_row_position", "import_id", "position",
                            unique=True),)
