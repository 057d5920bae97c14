-- When Partner Center closes a waiting referral as Expired (its expirationDateTime, 14 days after it was
-- sent), so `relay runs` can list the answers that are due without asking Partner Center.
ALTER TABLE links ADD COLUMN respond_by timestamptz;
CREATE INDEX links_respond_by ON links (tenant_id, respond_by) WHERE respond_by IS NOT NULL;
