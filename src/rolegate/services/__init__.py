"""AWS semantics over the Store and the policy engine; no HTTP and no wire formats here."""
