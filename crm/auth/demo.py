"""The demo farm's staff: one user per role, all with the demo password."""
from crm.auth.services import create_user
from crm.common import SYSTEM
from crm.demo import data


def seed(farm):
    farm.staff.extend(create_user(email, name, role, data.DEMO_PASSWORD, actor=SYSTEM)
                      for email, name, role in data.STAFF)
