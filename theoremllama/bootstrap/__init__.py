"""NL-FL bootstrapping: theorem records -> OBT dataset (informalize, weave comments, verify, iterate)."""
