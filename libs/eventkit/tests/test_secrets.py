from eventkit.secrets import ALPHABET, LENGTH, hash_secret, new_lookup_secret, verify_secret


def test_secrets_are_typeable_and_different():
    made = {new_lookup_secret() for _ in range(200)}
    assert len(made) == 200
    assert all(len(s) == LENGTH and set(s) <= set(ALPHABET) for s in made)


def test_a_hash_verifies_its_secret_as_typed_and_nothing_else():
    secret = new_lookup_secret()
    hashed = hash_secret(secret)
    assert secret not in hashed and hashed.startswith("pbkdf2_sha256$")
    typed = f" {secret[:5].lower()}-{secret[5:]} "
    assert verify_secret(typed, hashed)
    assert not verify_secret(new_lookup_secret(), hashed)
    assert hash_secret(secret) != hashed, "salted"


def test_malformed_hashes_never_verify():
    for hashed in ("", "md5$1$a$b", "pbkdf2_sha256$x$a$b", "pbkdf2_sha256$10$!!$??"):
        assert not verify_secret("ABC", hashed)
