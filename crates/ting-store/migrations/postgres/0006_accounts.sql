-- Account administration: deactivated accounts and one-time invitation / password-reset links.
-- When an administrator deactivated the account (it cannot sign in); NULL while active. Retention: until reactivated or the account is deleted.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;

CREATE TABLE invitations (
    -- Random id (to withdraw it). Retention: until it expires (used ones too, so reuse is told apart from a wrong link).
    id TEXT PRIMARY KEY,
    -- SHA-256 of the link's secret token (never the token). Retention: as the row.
    token_hash BYTEA NOT NULL UNIQUE,
    -- Login name the invited account will have, or of the account whose password is reset. Retention: as the row.
    username TEXT COLLATE "C" NOT NULL,
    -- What the link does: `invite` or `password_reset`. Retention: as the row.
    kind TEXT NOT NULL CHECK (kind IN ('invite', 'password_reset')),
    -- Whether the invited account will be an administrator. Retention: as the row.
    is_admin BOOLEAN NOT NULL,
    -- Administrator who issued it. Retention: as the row.
    created_by TEXT REFERENCES users (id),
    -- When it was issued. Retention: as the row.
    created_at BIGINT NOT NULL,
    -- When it stops working. Retention: as the row.
    expires_at BIGINT NOT NULL,
    -- When it was used; NULL until then. Retention: as the row.
    used_at BIGINT
);
CREATE INDEX invitations_by_expiry ON invitations (expires_at);
