"""Published test vectors for the signed result (see README, "Checking a result with openssl")."""
