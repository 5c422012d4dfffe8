"""``field__any=[…]``: membership in a list passed as ONE array parameter on
PostgreSQL (``= ANY(%s)``), an ordinary ``IN`` elsewhere.

The engine moves thousands of message ids per statement, the stop-list is asked
for thousands of numbers; as ``IN (%s, %s, …)`` half the time went into
building and parsing the SQL text.  Registered by the cabinet (the bottom
layer) so every app may use it."""

from django.db import models
from django.db.models.lookups import In


class AnyLookup(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


for field in (
    models.BigAutoField,
    models.AutoField,
    models.BigIntegerField,
    models.IntegerField,
    models.ForeignKey,
    models.CharField,
):
    field.register_lookup(AnyLookup)
