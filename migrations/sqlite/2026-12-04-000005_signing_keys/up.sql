-- The alliance's credential signing keys, shared by every instance: the one
-- that signs (retired_at NULL) and the retired ones whose public keys stay
-- in the published JWK set until withdraw_after (when every credential they
-- signed has expired). Private keys are sealed with AES-256-GCM under a key
-- derived from the setting GATEKEEPER_SIGNING_KEY_SECRET
-- (domain::signing::SealingKey); a key kept only to verify has none.
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- RFC 7638 thumbprint: the last part of the key id URL.
    thumbprint TEXT NOT NULL UNIQUE,
    -- ES256 or EdDSA.
    algorithm TEXT NOT NULL,
    -- The public key's members as JSON (crv, kty, x, y).
    public_key TEXT NOT NULL,
    -- base64url of nonce, ciphertext and tag of the PKCS#8 DER private key.
    sealed_private_key TEXT,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    withdraw_after TIMESTAMP
);
-- One signing key at a time, even when instances start together.
CREATE UNIQUE INDEX signing_keys_one_signs ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
