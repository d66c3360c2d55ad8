"""The Django models of the accuracy corpus: every kind of relation Django has."""
