"""What the features' demo steps share while `flask demo seed` makes the demo farm.

crm.demo.seed builds one DemoFarm and hands it to each feature's step (declared as
`Feature(demo="crm.<feature>.demo:seed")`) in the order of crm.FEATURES: staff (auth), then
customers, then their interactions and tickets (communications), then their preferences. Every
step draws from the one random sequence, so the farm comes out the same each time only while
the steps run in that order and draw in the same order.
"""
import random
from dataclasses import dataclass, field

SEED = 2026


@dataclass
class DemoFarm:
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    staff: list = field(default_factory=list)  # StaffUser, one per role, made by auth's step
    customers: list = field(default_factory=list)  # Customer, in the order made (ids ascending)
    weeks: int = 52  # of order, invoice and payment history (credit's step)

    @property
    def owners(self) -> list:
        """The staff who own accounts and talk to them: managers and sales."""
        return [user for user in self.staff if user.role in ("manager", "sales")]
