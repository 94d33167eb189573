from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from crm.forms import FormKeyField, MaxLength, strip


class ProductForm(FlaskForm):
    name = StringField("Product", filters=[strip],
                       validators=[DataRequired("Name the product."), MaxLength(80)])
    sizes = StringField("Sizes", filters=[strip], description="Comma-separated, e.g. 2 oz, 4 oz, 1 lb.",
                        validators=[DataRequired("Give at least one size."), MaxLength(200)])
    form_key = FormKeyField()


class NameForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give a name."), MaxLength(60)])
    form_key = FormKeyField()
