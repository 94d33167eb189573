"""`flask demo seed|bulk|…`: the demo farm and the benchmark's synthetic data."""
from crm.features import Feature

feature = Feature(name="demo", cli=("crm.demo.cli:demo_cli",))
