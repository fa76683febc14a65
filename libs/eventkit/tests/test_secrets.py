import math

from eventkit.secrets import ALPHABET, ITERATIONS, LENGTH, hash_secret, new_lookup_secret, verify_secret


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


def test_guessing_a_secret_from_its_hash_stays_out_of_reach():
    # Bits a guesser must cover: the secret's entropy plus the cost of each PBKDF2 guess.
    bits = LENGTH * math.log2(len(ALPHABET)) + math.log2(ITERATIONS)
    assert bits >= 68


def test_a_hash_made_with_other_iterations_still_verifies():
    secret = new_lookup_secret()
    older = hash_secret(secret, iterations=10_000)
    assert older.startswith("pbkdf2_sha256$10000$")
    assert verify_secret(secret, older)
    assert not verify_secret(new_lookup_secret(), older)
