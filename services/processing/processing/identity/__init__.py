"""Staff identity: processing signs officers in and issues the staff tokens every service trusts.

- `passwords`: argon2 hashes of the officers' passwords.
- `signin`: a password (and a second factor where required) checked, with lockout after
  repeated failures.
- `sessions`: the console's sign-in sessions, kept in processing's store so that signing out or
  deactivating an account ends them at once.
- `keys`: the RSA keys that sign staff tokens, rotated by period and published as a key set
  (`/.well-known/jwks.json`) that the other services verify tokens against.
- `store`: the collections of all of the above.

The staff directory itself (who works where in which role) is `processing.service.staff`.
"""
