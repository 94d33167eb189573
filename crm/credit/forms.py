from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from crm.credit.models import PAYMENT_METHODS, TERMS
from crm.forms import (
    FormKeyField,
    IdField,
    MaxLength,
    MoneyField,
    Trimmed,
    choices,
    version_field,
)


class Form(FlaskForm):
    class Meta(Trimmed):
        pass


class TermsForm(Form):
    credit_limit = MoneyField("Credit limit", minimum=0, description="Empty: no limit. 0: nothing may be "
                              "bought on account.")
    terms = SelectField("Payment terms", choices=choices(TERMS))
    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="terms", **kwargs)


class HoldForm(Form):
    reason = StringField("Why", validators=[InputRequired("Say why the account is put on hold."),
                                            MaxLength(500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="hold", **kwargs)


class PaymentForm(Form):
    form_key = FormKeyField()
    amount = MoneyField("Amount", validators=[InputRequired("Enter the amount paid.")],
                        minimum=1)
    method = SelectField("Paid by", choices=choices(PAYMENT_METHODS))
    reference = StringField("Reference", validators=[Optional(), MaxLength(100)], description="A cheque number, a transfer's "
                            "reference.")
    received_on = DateField("Received on", validators=[InputRequired("Give the date it came in.")])
    first = IdField("Pay this invoice first", validate_choice=False,
                    description="Empty: the oldest open invoices first.")

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, prefix="payment", **kwargs)
        self.first.choices = choices({"": "The oldest first", **{
            str(i.id): i.number for i in invoices}})


class ManualInvoiceForm(Form):
    form_key = FormKeyField()
    description = StringField("What for", validators=[InputRequired("Say what is charged."),
                                                      MaxLength(200)])
    amount = MoneyField("Amount", validators=[InputRequired("Enter the amount.")], minimum=1)
    memo = TextAreaField("Note", validators=[InputRequired("Say why it is invoiced by hand."),
                                             MaxLength(500)])
    due_date = DateField("Due", validators=[Optional()],
                         description="Empty: by the customer's payment terms.")
    override = StringField("Invoice anyway, because", validators=[Optional(), MaxLength(500)],
                           description="Only when the credit check "
                           "refuses it; kept with the invoice.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="invoice", **kwargs)


ADJUSTMENTS = {"credit_note": "Credit note", "write_off": "Write-off"}


class AdjustForm(Form):
    """A credit note or a write-off against one of the customer's open invoices (finance)."""

    kind = SelectField("What", choices=choices(ADJUSTMENTS))
    invoice_id = IdField("Invoice", validate_choice=False)
    amount = MoneyField("Amount", validators=[InputRequired("Enter the amount.")], minimum=1)
    memo = StringField("Why", validators=[InputRequired("Say why."), MaxLength(500)])

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, prefix="adjust", **kwargs)
        self.invoice_id.choices = choices({"": "Choose…", **{str(i.id): i.number
                                                             for i in invoices}})


class RefundForm(Form):
    """Money of a payment that is not allocated, paid back (finance)."""

    payment_id = IdField("Payment", validate_choice=False)
    amount = MoneyField("Amount", validators=[InputRequired("Enter the amount.")], minimum=1)
    memo = StringField("Why", validators=[InputRequired("Say why."), MaxLength(500)])

    def __init__(self, *args, payments=(), **kwargs):
        super().__init__(*args, prefix="refund", **kwargs)
        self.payment_id.choices = choices({"": "Choose…", **{
            str(p.id): f"{p.received_on:%b %-d, %Y} · {PAYMENT_METHODS[p.method]}"
            for p in payments}})


class ReverseForm(Form):
    memo = StringField("Why", validators=[InputRequired("Say why it is reversed."),
                                          MaxLength(500)])
